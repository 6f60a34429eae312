from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from articurated.api.representation import FastRepresentationMixin
from audit.models import AuditRecord

_ACTOR = inline_serializer(
    "AuditActor",
    {"id": serializers.IntegerField(), "username": serializers.CharField()},
    allow_null=True,
)


class AuditRecordSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """The audit record body of API.md."""

    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditRecord
        fields = [
            "id", "entity_type", "entity_id", "entity_number", "transition", "previous_state",
            "new_state", "actor", "actor_type", "source", "reason", "metadata", "ip_address",
            "request_id", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(_ACTOR)
    def get_actor(self, record: AuditRecord) -> dict | None:
        if record.actor is None:
            return None
        return {"id": record.actor.pk, "username": record.actor.get_username()}
