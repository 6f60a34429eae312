"""Input and output bodies of the stock endpoints (API.md "Catalogue")."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from articurated.api.serializers import StrictSerializer
from articurated.api.strict_fields import StrictIntegerField
from catalogue.serializers import MAX_STOCK
from inventory.models import MovementReason, StockMovement


class StockInputSerializer(StrictSerializer):
    on_hand = StrictIntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    delta = StrictIntegerField(required=False, min_value=-MAX_STOCK, max_value=MAX_STOCK)
    reason = serializers.CharField(max_length=500)

    def validate(self, attrs):
        if ("on_hand" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError(
                {"non_field_errors": ['Give exactly one of "on_hand" or "delta".']}
            )
        return attrs


class MovementActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class StockMovementSerializer(serializers.ModelSerializer):
    sku_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(source="sku.code", read_only=True)
    reason = serializers.ChoiceField(choices=MovementReason.choices, read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id", "sku_id", "sku", "reason", "delta_on_hand", "delta_allocated", "on_hand",
            "allocated", "order_id", "return_id", "import_id", "note", "actor", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(MovementActorSerializer(allow_null=True))
    def get_actor(self, movement: StockMovement) -> dict | None:
        actor = movement.actor
        return None if actor is None else {"id": actor.pk, "username": actor.get_username()}
