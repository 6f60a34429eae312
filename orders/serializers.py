"""Input serializers (plain, strict) and the output serializer of the order body (API.md)."""

import pycountry
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from articurated.api.fields import (
    StrictCharField,
    StrictChoiceField,
    StrictCodeField,
    StrictEmailField,
    StrictIntegerField,
    StrictMoneyField,
)
from articurated.api.representation import FastRepresentationMixin
from articurated.api.serializers import StrictSerializer, state_input_variants
from orders.models import LineItem, Order, OrderStatus
from orders.services import order_allowed_transitions

_COUNTRIES = {country.alpha_2 for country in pycountry.countries}
_CURRENCIES = {currency.alpha_3 for currency in pycountry.currencies}


class AddressInputSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    city = StrictCharField(max_length=200)
    region = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    country = StrictCodeField(codes=_COUNTRIES, message="Not an ISO 3166-1 alpha-2 country code.")
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")


class CustomerSerializer(StrictSerializer):
    email = StrictEmailField(max_length=254)
    name = StrictCharField(max_length=200)


class LineItemInputSerializer(StrictSerializer):
    # A live catalogue SKU in any letter case; name and unit_price default to the catalogue's.
    sku = StrictCharField(max_length=64)
    name = StrictCharField(max_length=200, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=10_000)
    unit_price = StrictMoneyField(required=False)


class OrderCreateInputSerializer(StrictSerializer):
    customer = CustomerSerializer()
    currency = StrictCodeField(
        codes=_CURRENCIES, message="Not an ISO 4217 currency code.", default="USD"
    )
    shipping_address = AddressInputSerializer()
    billing_address = AddressInputSerializer(required=False, allow_null=True, default=None)
    items = LineItemInputSerializer(many=True, allow_empty=False, min_length=1, max_length=200)
    shipping_amount = StrictMoneyField(default="0.00")
    tax_amount = StrictMoneyField(default="0.00")
    notes = StrictCharField(
        multiline=True, max_length=2000, required=False, allow_blank=True, default=""
    )


class OrderStateInputSerializer(StrictSerializer):
    new_state = StrictChoiceField(choices=OrderStatus.choices)
    payment_reference = StrictCharField(max_length=120, required=False)
    payment_method = StrictCharField(max_length=40, required=False, allow_null=True)
    carrier = StrictCharField(max_length=60, required=False)
    tracking_number = StrictCharField(max_length=120, required=False)
    reason = StrictCharField(
        multiline=True, max_length=2000, required=False, allow_null=True, allow_blank=True
    )


OrderStateInputVariants = state_input_variants(
    OrderStateInputSerializer,
    name="OrderStateChange",
    states=list(OrderStatus.values),
    required={
        OrderStatus.PAID: ["payment_reference"],
        OrderStatus.SHIPPED: ["carrier", "tracking_number"],
        OrderStatus.CANCELLED: ["reason"],
    },
)


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()


class LineItemSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    sku_id = serializers.UUIDField(source="catalogue_sku_id", read_only=True, allow_null=True)

    class Meta:
        model = LineItem
        fields = [
            "id", "sku", "sku_id", "name", "quantity", "unit_price", "line_total",
            "returned_quantity",
        ]  # fmt: skip


class OrderInvoiceSerializer(serializers.Serializer):
    number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["PENDING", "GENERATED", "FAILED"])
    url = serializers.CharField()


class OrderReturnSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.CharField()


class OrderSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """The order body of API.md."""

    customer = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    billing_address = serializers.SerializerMethodField()
    items = LineItemSerializer(many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField()
    returns = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id", "number", "status", "customer", "currency", "shipping_address",
            "billing_address", "items", "subtotal", "shipping_amount", "tax_amount",
            "total_amount", "payment_method", "payment_reference", "carrier",
            "tracking_number", "notes", "cancellation_reason", "allowed_transitions",
            "invoice", "returns", "created_at", "updated_at", "paid_at", "shipped_at",
            "delivered_at", "cancelled_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(CustomerSerializer)
    def get_customer(self, order: Order) -> dict:
        return {"email": order.customer_email, "name": order.customer_name}

    @extend_schema_field(AddressSerializer)
    def get_shipping_address(self, order: Order) -> dict:
        return order.address("shipping")

    @extend_schema_field(AddressSerializer)
    def get_billing_address(self, order: Order) -> dict:
        return order.address("billing")

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(OrderStatus.choices)))
    def get_allowed_transitions(self, order: Order) -> list[str]:
        return order_allowed_transitions(order)

    @extend_schema_field(OrderInvoiceSerializer(allow_null=True))
    def get_invoice(self, order: Order) -> dict | None:
        # The invoicing app adds a one-to-one `invoice`; absent until the order ships.
        invoice = getattr(order, "invoice", None)
        if invoice is None:
            return None
        url = reverse("api:order-invoice", kwargs={"pk": order.pk})
        request = self.context.get("request")
        return {
            "number": invoice.number,
            "status": invoice.status,
            "url": request.build_absolute_uri(url) if request else url,
        }

    @extend_schema_field(OrderReturnSummarySerializer(many=True))
    def get_returns(self, order: Order) -> list[dict]:
        returns = getattr(order, "returns", None)
        if returns is None:
            return []
        return [
            {"id": str(r.pk), "number": r.number, "status": r.status}
            for r in sorted(returns.all(), key=lambda r: r.created_at)
        ]


def order_body(order: Order, *, request=None) -> dict:
    """The order body of API.md for an order in hand (`request` makes the invoice's URL
    absolute).

    A create or state change builds this body twice in one request: for its webhook event,
    inside the service, and for the API's answer, right after. The second reuses the first
    while everything the body is read from is unchanged: the status and `updated_at` (every
    save sets it), the very related objects in hand (the invoice a shipment adds after its
    event is a new one) and the same lines and returns read; and only when there is no
    invoice, the one part that depends on the request."""
    inputs = _body_inputs(order)
    memo = order.__dict__.get("_body_memo")
    if memo is not None and memo[1]["invoice"] is None and _same_inputs(memo[0], inputs):
        return memo[1]
    body = dict(OrderSerializer(order, context={"request": request}).data)
    order.__dict__["_body_memo"] = (inputs, body)
    return body


def _body_inputs(order: Order) -> tuple:
    prefetched = getattr(order, "_prefetched_objects_cache", {})
    return (
        order.status,
        order.updated_at,
        tuple(order._state.fields_cache.items()),
        tuple(prefetched.items()),
    )


def _same_inputs(old: tuple, new: tuple) -> bool:
    status, updated_at, cached, prefetched = old
    if (status, updated_at) != new[:2] or len(cached) != len(new[2]):
        return False
    if len(prefetched) != len(new[3]):
        return False
    pairs = [*zip(cached, new[2], strict=True), *zip(prefetched, new[3], strict=True)]
    return all(a[0] == b[0] and a[1] is b[1] for a, b in pairs)
