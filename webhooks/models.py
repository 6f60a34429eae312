import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition


def _event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


class Event(models.Model):
    """Something that happened (to an order, return, invoice, refund, product, category, a
    SKU's stock or an import), written in the same transaction as the change (webhooks/events.py
    says which audit record or signal gives which type), with `data` as GET returned it then.
    Kept WEBHOOKS_EVENT_RETENTION_DAYS days for `GET /api/v1/events`, then pruned."""

    id = models.CharField(primary_key=True, max_length=40, default=_event_id, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    # The order the event belongs to (its timeline), when there is one.
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    audit_record_id = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def payload(self) -> dict:
        """The body POSTed to endpoints (API.md "Webhooks")."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.created_at,
            "data": self.data,
        }


class Endpoint(models.Model):
    """An integrator's URL and the events it wants. `secret` signs every delivery; after a
    rotation `previous_secret` signs too until `previous_secret_expires_at` (24 hours)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, null=True, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, null=True, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Failures in a row, and since when it has failed without a success (None: healthy).
    failure_streak = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.CharField(max_length=10, null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_delivery_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["active"], name="webhook_endpoint_active")]
        permissions = [
            ("manage_own_endpoint", "Can register and manage own webhook endpoints"),
            ("manage_all_endpoints", "Can see and manage every webhook endpoint"),
        ]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, *, now=None) -> list[str]:
        now = now or timezone.now()
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


S = DeliveryStatus


class Delivery(models.Model):
    """One event to one endpoint: written when the event is (or on resend), PENDING until a 2xx
    answer or the last retry. `next_attempt_at` is when the next attempt is due; `queued` says
    whether a message for it is in the broker (else the sweep sends one when it is due)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = FSMField(max_length=10, choices=DeliveryStatus.choices, default=S.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued = models.BooleanField(default=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]
        permissions = [("resend_delivery", "Can resend webhook deliveries")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"

    @transition(field=status, source=S.PENDING, target=S.SUCCEEDED)
    def succeed(self) -> None:
        self.last_error = ""
        self.queued = False

    @transition(field=status, source=S.PENDING, target=S.FAILED)
    def fail(self) -> None:
        self.queued = False

    @transition(field=status, source=[S.PENDING, S.SUCCEEDED, S.FAILED], target=S.PENDING)
    def resend(self) -> None:
        # A fresh retry schedule; the attempt log keeps the earlier attempts.
        self.attempts = 0
        self.next_attempt_at = timezone.now()
        self.queued = True


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what the endpoint answered (or the error)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")  # the first 1 KB
    error = models.TextField(blank=True, default="")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} in {self.duration_ms} ms"
