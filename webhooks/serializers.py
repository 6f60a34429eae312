"""Input serializers (plain, strict) and the output bodies of webhooks and events (API.md)."""

from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from articurated.api.fields import StrictBooleanField, StrictCharField, StrictChoiceField
from articurated.api.serializers import StrictSerializer
from webhooks.events import ALL_EVENTS, EVENT_TYPES, SUBSCRIPTION_CHOICES
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, Event


class _EventsField(serializers.ListField):
    child = StrictChoiceField(choices=SUBSCRIPTION_CHOICES)

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_empty=False, max_length=len(SUBSCRIPTION_CHOICES), **kwargs)

    def to_internal_value(self, data):
        events = super().to_internal_value(data)
        if ALL_EVENTS in events and len(set(events)) > 1:
            raise serializers.ValidationError('"*" subscribes to every event; give it alone.')
        return events


class WebhookCreateInputSerializer(StrictSerializer):
    url = serializers.URLField(max_length=2000)
    events = _EventsField(help_text='Event types, or ["*"] for all.')
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    active = StrictBooleanField(required=False, default=True)


class WebhookUpdateInputSerializer(StrictSerializer):
    url = serializers.URLField(max_length=2000, required=False)
    events = _EventsField(required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    active = StrictBooleanField(required=False)


class _SinceField(serializers.DateTimeField):
    """A valid timestamp whose UTC time falls outside the years 1-9999 (`0001-01-01T00:13+00:27`)
    is the earliest (or latest) moment there is, not a 400: every failed delivery is "since" it
    (or none)."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except serializers.ValidationError:
            if value.tzinfo is None:
                raise
            edge = datetime.min if value.year == datetime.min.year else datetime.max
            return edge.replace(tzinfo=UTC)


class ResendFailedInputSerializer(StrictSerializer):
    since = _SinceField(help_text="Failed deliveries created at or after this.")


class LastDeliverySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    status_code = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class WebhookSerializer(serializers.ModelSerializer):
    """The webhook body of API.md."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIPTION_CHOICES))
    last_delivery = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = [
            "id", "url", "events", "description", "active", "disabled_reason", "created_at",
            "last_delivery",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(LastDeliverySerializer(allow_null=True))
    def get_last_delivery(self, endpoint: Endpoint) -> dict | None:
        if endpoint.last_delivery_at is None:
            return None
        return {
            "status": endpoint.last_status,
            "status_code": endpoint.last_status_code,
            "at": serializers.DateTimeField().to_representation(endpoint.last_delivery_at),
        }


class WebhookWithSecretSerializer(WebhookSerializer):
    """The webhook body with its signing secret: only in the answer to create and rotate."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookTestResultSerializer(serializers.Serializer):
    delivered = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)


class ResendFailedResultSerializer(serializers.Serializer):
    resent = serializers.IntegerField()


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "response_body", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(read_only=True)
    event_type = serializers.ChoiceField(source="event.type", choices=EVENT_TYPES, read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True, help_text="Newest first.")

    class Meta:
        model = Delivery
        fields = [
            "id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
            "last_status_code", "last_error", "last_attempt_at", "created_at", "attempt_log",
        ]  # fmt: skip
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    """An event as it is POSTed to endpoints."""

    type = serializers.ChoiceField(choices=EVENT_TYPES, read_only=True)
    data = serializers.DictField(read_only=True, help_text="The object at the moment of the event.")

    class Meta:
        model = Event
        fields = ["id", "type", "created_at", "data"]
        read_only_fields = fields
