import uuid

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from orders.models import MONEY, Order
from returns.models import Return


class RefundStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class RefundReason(models.TextChoices):
    CANCELLATION = "CANCELLATION", "Order cancelled"
    RETURN = "RETURN", "Return completed"


S = RefundStatus


def _idempotency_key() -> str:
    return f"refund-{uuid.uuid4()}"


class Refund(models.Model):
    """Money going back to a customer, and the state of the background job that asks the
    payment gateway for it. Written PENDING in the transaction that cancels a paid order or
    completes a return; `status` changes only through the @transition methods, called by
    payments/services.py.

    The sum of an order's refunds never exceeds its total: checked by the service under the
    order lock, and refused by the database itself (a trigger, payments/db.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    # One refund per return; the return body's `refund` field reads `return_request.refund`.
    return_request = models.OneToOneField(
        Return, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    reason = models.CharField(max_length=20, choices=RefundReason.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = FSMField(max_length=10, choices=RefundStatus.choices, default=S.PENDING)
    # The gateway's id for the refund transaction, once it succeeded.
    reference = models.CharField("gateway reference", max_length=120, null=True, blank=True)
    # Sent with every gateway call for this refund, so a retry never pays twice.
    idempotency_key = models.CharField(
        max_length=80, unique=True, default=_idempotency_key, editable=False
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # When the next step (gateway call, retry, e-mail) is due; the sweep re-sends work overdue
    # by more than JOBS_SWEEP_GRACE_SECONDS.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True, editable=False)
    failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    customer_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    managers_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="refund_status_due")]
        permissions = [("retry_refund", "Can retry a failed refund")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status=S.SUCCEEDED) | models.Q(reference__isnull=False),
                name="refund_succeeded_has_reference",
            ),
        ]

    def __str__(self) -> str:
        # Staff read this as the refund page's title: the order's number, not its id.
        return f"Refund of {self.amount} {self.currency} for {self.order.number}"

    # Transitions: pure, touching only this row's fields.
    @transition(field=status, source=[S.PENDING, S.FAILED], target=S.SUCCEEDED)
    def succeed(self, *, reference: str) -> None:
        # From FAILED too: if the gateway paid, the refund succeeded, whatever we thought.
        self.reference = reference
        self.succeeded_at = timezone.now()
        self.last_error = ""
        self.next_attempt_at = self.succeeded_at  # the customer's e-mail is due now

    @transition(field=status, source=S.PENDING, target=S.FAILED)
    def fail(self, *, error: str) -> None:
        self.last_error = error
        self.failed_at = timezone.now()
        self.next_attempt_at = self.failed_at  # the managers' alert is due now

    @transition(field=status, source=[S.PENDING, S.FAILED], target=S.PENDING)
    def retry(self) -> None:
        self.attempts = 0
        self.failed_at = None
        self.managers_alerted_at = None
        self.next_attempt_at = timezone.now()


class GatewayTransaction(models.Model):
    """The simulated gateway's own ledger (payments.gateways.SimulatedGateway): one row per
    refund it paid. The unique idempotency key is what makes "never pays twice" hold even when
    two calls race."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    idempotency_key = models.CharField(max_length=80, unique=True)
    reference = models.CharField(max_length=120, unique=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    payment_reference = models.CharField(max_length=120, blank=True, default="")
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.currency} {self.amount}"


class SimulatedGatewayFailure(models.Model):
    """How many times the simulated gateway has failed for one idempotency key, so that
    SIMULATED_GATEWAY_FAIL_TIMES=N means N failed calls in all, whichever worker processes
    make them (a per-process counter gave N per process)."""

    idempotency_key = models.CharField(max_length=80, primary_key=True)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.failures} failures"
