"""The payment service's own tables. Amounts are integers in minor units (cents)."""

import secrets

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


def _payment_id() -> str:
    return f"pay_{secrets.token_hex(12)}"


def _refund_id() -> str:
    return f"re_{secrets.token_hex(12)}"


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class RefundStatus(models.TextChoices):
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class Payment(models.Model):
    """Money taken. `refunded_minor` is the sum of its succeeded refunds, kept on the row so
    that the limit is checked under this row's lock and by the CHECK below."""

    id = models.CharField(primary_key=True, max_length=40, default=_payment_id, editable=False)
    client = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices)
    amount_minor = models.BigIntegerField()
    refunded_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=120, blank=True, default="")
    description = models.CharField(max_length=200, blank=True, default="")
    acquirer_reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "payment_service_payment"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payment_service_amount_positive"
            ),
            # Never refunded more than was paid, whoever writes the row.
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=F("amount_minor")),
                name="payment_service_refunded_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id}: {self.amount_minor} {self.currency} ({self.status})"


class Refund(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_refund_id, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    status = models.CharField(max_length=10, choices=RefundStatus.choices)
    amount_minor = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True, default="")
    acquirer_reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "payment_service_refund"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payment_service_refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id}: {self.amount_minor} of {self.payment_id} ({self.status})"


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    DONE = "DONE", "Done"


class IdempotencyRecord(models.Model):
    """One mutating call, claimed by inserting this row (unique per client, method and key)
    before any work. `fingerprint` is a hash of the request, so the key cannot be reused for
    another request; `answer` is what the call returned, replayed to a repeat. An IN_PROGRESS
    row whose `lease_until` has passed belongs to a call that died: the next call takes over."""

    client = models.CharField(max_length=64)
    method = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=IdempotencyState.choices)
    # Who holds an IN_PROGRESS claim now; a takeover changes it, so the old holder cannot finish.
    owner = models.CharField(max_length=32)
    lease_until = models.DateTimeField()
    answer = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "payment_service_idempotency"
        constraints = [
            models.UniqueConstraint(
                fields=["client", "method", "key"], name="payment_service_idempotency_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.method} {self.key} ({self.state})"


class AcquirerFault(models.Model):
    """How often the simulated acquirer has failed a call for one key (SIMULATED_GATEWAY_FAIL_TIMES
    counts per key). In the database, so the count holds across server restarts and processes."""

    operation = models.CharField(max_length=16)
    key = models.CharField(max_length=330)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "payment_service_acquirer_fault"
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "key"], name="payment_service_acquirer_fault_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}: {self.failures} failures"
