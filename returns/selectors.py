import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from articurated.errors import NotFound
from orders.models import Order
from returns.models import Return, ReturnLine


def return_refund_relation() -> str | None:
    """The reverse relation the payments app adds from a return to its refund: a one-to-one
    `refund`, or a foreign key `refunds`. None while payments has not added one."""
    related = {f.name: f for f in Return._meta.related_objects}
    for name in ("refund", "refunds"):
        if name in related:
            return name
    return None


def _lines() -> Prefetch:
    return Prefetch(
        "lines",
        queryset=ReturnLine.objects.select_related("line_item").order_by("line_item__position"),
    )


def return_list() -> QuerySet[Return]:
    """Returns with everything the return body shows, in a constant number of queries."""
    queryset = Return.objects.select_related("order", "decided_by").prefetch_related(_lines())
    relation = return_refund_relation()
    if relation == "refund":
        queryset = queryset.select_related("refund")
    elif relation == "refunds":
        queryset = queryset.prefetch_related("refunds")
    return queryset


def return_body_complete(return_obj: Return) -> Return:
    """Reads what the return body shows besides the row itself for a return already in hand
    (the row a state change locked and saved), skipping relations already loaded."""
    lookups: list = [_lines()]
    for name in ("order", "decided_by"):
        if not Return._meta.get_field(name).is_cached(return_obj):
            lookups.append(name)
    relation = return_refund_relation()
    if relation == "refunds" or (
        relation == "refund" and not Return._meta.get_field(relation).is_cached(return_obj)
    ):
        lookups.append(relation)
    prefetch_related_objects([return_obj], *lookups)
    return return_obj


def return_exists_or_404(*, return_id) -> None:
    """One indexed probe: whether the return exists (for bodies that show only its rows)."""
    try:
        exists = Return.objects.filter(pk=return_id).exists()
    except (DjangoValidationError, ValueError):
        exists = False
    if not exists:
        raise NotFound(f"Return {return_id} does not exist.")


def return_get(*, return_id) -> Return:
    try:
        return return_list().get(pk=return_id)
    except (Return.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Return {return_id} does not exist.") from None


def return_order_find(*, number_or_id: str) -> Order | None:
    """The order a return is being opened for, by its number (any case) or its id."""
    query = Q(number__iexact=number_or_id.strip())
    try:
        query |= Q(pk=uuid.UUID(number_or_id.strip()))
    except ValueError:
        pass
    return Order.objects.filter(query).first()
