"""Input serializers (plain, strict) and the output serializer of the return body (API.md)."""

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from articurated.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictUUIDField,
)
from articurated.api.representation import FastRepresentationMixin
from articurated.api.serializers import StrictSerializer, state_input_variants
from returns.models import Return, ReturnLine, ReturnReason, ReturnStatus
from returns.selectors import return_refund_relation
from returns.services import return_allowed_transitions


class ReturnItemInputSerializer(StrictSerializer):
    line_item_id = StrictUUIDField()
    quantity = StrictIntegerField(min_value=1, max_value=10_000)


class ReturnCreateInputSerializer(StrictSerializer):
    order_id = StrictUUIDField()
    reason = StrictChoiceField(choices=ReturnReason.choices)
    comment = StrictCharField(
        multiline=True, max_length=2000, required=False, allow_blank=True, default=""
    )
    items = ReturnItemInputSerializer(
        many=True,
        required=False,
        allow_null=True,
        # An empty list is refused by the service, whose error is keyed plainly `items`.
        allow_empty=True,
        max_length=200,
        help_text="Absent or null: every unit of the order not yet returned.",
    )


class ReturnStateInputSerializer(StrictSerializer):
    new_state = StrictChoiceField(choices=ReturnStatus.choices)
    reason = StrictCharField(
        multiline=True,
        max_length=2000,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Required for REJECTED; the decision reason for APPROVED.",
    )
    carrier = StrictCharField(max_length=60, required=False, allow_null=True)
    tracking_number = StrictCharField(max_length=120, required=False, allow_null=True)
    inspection_note = StrictCharField(
        multiline=True, max_length=2000, required=False, allow_null=True, allow_blank=True
    )
    restock = StrictBooleanField(
        required=False,
        default=True,
        help_text="RECEIVED only: true (default) puts the units back on hand, false counts "
        "them as damaged.",
    )


ReturnStateInputVariants = state_input_variants(
    ReturnStateInputSerializer,
    name="ReturnStateChange",
    states=list(ReturnStatus.values),
    required={ReturnStatus.REJECTED: ["reason"]},
)


class ReturnLineSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    line_item_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(source="line_item.sku", read_only=True)
    name = serializers.CharField(source="line_item.name", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["line_item_id", "sku", "name", "quantity", "unit_price", "refund_amount"]
        read_only_fields = fields


_DECIDED_BY = inline_serializer(
    "ReturnDecidedBy",
    {"id": serializers.IntegerField(), "username": serializers.CharField()},
    allow_null=True,
)
_REFUND = inline_serializer(
    "ReturnRefund",
    {
        "status": serializers.ChoiceField(choices=["PENDING", "SUCCEEDED", "FAILED"]),
        "amount": serializers.DecimalField(max_digits=16, decimal_places=2),
        "reference": serializers.CharField(allow_null=True),
    },
    allow_null=True,
)


def _refund_of(return_obj: Return):
    """The refund the payments app made for this return, if any (read defensively: the
    payments app sits above returns and adds the relation)."""
    relation = return_refund_relation()
    if relation == "refund":
        return getattr(return_obj, "refund", None)  # a missing one-to-one is an AttributeError
    if relation == "refunds":
        # A return has one refund; if payments allows several, the first in its ordering.
        return next(iter(return_obj.refunds.all()), None)
    return None


class ReturnSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """The return body of API.md."""

    order_id = serializers.UUIDField(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    items = ReturnLineSerializer(source="lines", many=True, read_only=True)
    decided_by = serializers.SerializerMethodField()
    refund = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Return
        fields = [
            "id", "number", "order_id", "order_number", "status", "reason", "comment", "items",
            "refund_amount", "currency", "decision_reason", "decided_by", "decided_at",
            "carrier", "tracking_number", "inspection_note", "refund", "allowed_transitions",
            "created_at", "updated_at", "received_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(_DECIDED_BY)
    def get_decided_by(self, return_obj: Return) -> dict | None:
        user = return_obj.decided_by
        return None if user is None else {"id": user.pk, "username": user.get_username()}

    @extend_schema_field(_REFUND)
    def get_refund(self, return_obj: Return) -> dict | None:
        refund = _refund_of(return_obj)
        if refund is None:
            return None
        amount = getattr(refund, "amount", None)
        return {
            "status": str(refund.status),
            "amount": None if amount is None else f"{amount:.2f}",
            "reference": getattr(refund, "reference", None) or None,
        }

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(ReturnStatus.choices)))
    def get_allowed_transitions(self, return_obj: Return) -> list[str]:
        return return_allowed_transitions(return_obj)
