"""The rules for an order's editable details (customer, addresses, notes), the same as the
API's order body: country an ISO 3166-1 alpha-2 code, name, line 1, city and postal code
required, nothing longer than its column (refused, never cut). Used by
`order_update_details` and by the admin form, so staff see the message on the field."""

from collections.abc import Mapping

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from orders.models import ADDRESS_PARTS, Order, OrderStatus

EDITABLE_FIELDS = (
    "customer_name",
    "customer_email",
    "notes",
    *(f"{kind}_{part}" for kind in ("shipping", "billing") for part in ADDRESS_PARTS),
)
# Once the parcel has left (or the order is cancelled) the details are a record of the past.
FROZEN_STATES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)
REQUIRED_ADDRESS_PARTS = ("name", "line1", "city", "postal_code", "country")
_COUNTRIES = {country.alpha_2 for country in pycountry.countries}
_REQUIRED = "This field is required."


def _country_hint(value: str) -> str:
    try:
        return f" Did you mean {pycountry.countries.lookup(value).alpha_2}?"
    except LookupError:
        return ""


def order_details_clean(*, order: Order, changes: Mapping[str, object]) -> dict[str, str]:
    """The changes, trimmed and normalised (country upper-cased). Raises ValidationError with
    a message per field (dict) when any is refused."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            errors.setdefault(name, []).append("This field cannot be changed here.")
            continue
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.setdefault(name, []).append("Must be text.")
            continue
        value = value.strip()
        limit = Order._meta.get_field(name).max_length
        if name.endswith("_country") and value:
            if value.upper() not in _COUNTRIES:
                errors.setdefault(name, []).append(
                    f"“{value}” is not a two-letter ISO 3166-1 country code (e.g. GB, DE, US)."
                    + _country_hint(value)
                )
                continue
            value = value.upper()
        elif limit and len(value) > limit:
            errors.setdefault(name, []).append(
                f"At most {limit} characters (this has {len(value)}); nothing was cut."
            )
            continue
        cleaned[name] = value
    if "customer_email" in cleaned:
        try:
            validate_email(cleaned["customer_email"])
        except ValidationError:
            errors.setdefault("customer_email", []).append("Enter a valid e-mail address.")
    if "customer_name" in cleaned and not cleaned["customer_name"]:
        errors.setdefault("customer_name", []).append(_REQUIRED)
    for kind in ("shipping", "billing"):
        touched = [part for part in ADDRESS_PARTS if f"{kind}_{part}" in changes]
        if not touched:
            continue  # an address nobody edits is left as the storefront sent it
        for part in REQUIRED_ADDRESS_PARTS:
            name = f"{kind}_{part}"
            value = cleaned.get(name, getattr(order, name)) if name not in errors else "x"
            if not value:
                errors.setdefault(name, []).append(_REQUIRED)
    if errors:
        raise ValidationError({name: messages for name, messages in errors.items()})
    return cleaned
