import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from articurated.history import HistoricalRecords
from orders.models import MONEY, LineItem, Order


class ReturnStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "Requested"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    RECEIVED = "RECEIVED", "Received"
    COMPLETED = "COMPLETED", "Completed"


class ReturnReason(models.TextChoices):
    DAMAGED = "DAMAGED", "Damaged"
    WRONG_ITEM = "WRONG_ITEM", "Wrong item"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED", "Not as described"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED", "No longer needed"
    OTHER = "OTHER", "Other"


S = ReturnStatus


class Return(ConcurrentTransitionMixin, models.Model):
    """A return merchandise authorisation (RMA) for some units of one order. `status` changes
    only through the @transition methods below, called by the services in returns/services.py
    (which lock, audit, keep the order's returned quantities and save)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = FSMField(
        max_length=20, choices=ReturnStatus.choices, default=S.REQUESTED, protected=True
    )
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    comment = models.TextField(blank=True, default="")
    # Sum of the lines' refund amounts: the returned units at the prices the customer paid.
    refund_amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)

    decision_reason = models.TextField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carrier = models.CharField(max_length=60, null=True, blank=True)
    tracking_number = models.CharField(max_length=120, null=True, blank=True, db_index=True)
    inspection_note = models.TextField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    in_transit_at = models.DateTimeField(null=True, blank=True, editable=False)
    received_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at"]
        # The list's ordering with its tie-break, after the equality filter (API.md "Lists").
        indexes = [
            models.Index(fields=["status", "created_at", "id"], name="return_status_created_id"),
            models.Index(fields=["created_at", "id"], name="return_created_id"),
        ]
        permissions = [
            ("approve_return", "Can approve a return"),
            ("reject_return", "Can reject a return"),
            ("mark_in_transit_return", "Can mark a return in transit"),
            ("receive_return", "Can receive a returned parcel"),
            ("complete_return", "Can complete a return"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refund_amount__gte=0), name="return_refund_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # Transitions: pure, touching only this row's fields (STYLE.md rule 2).
    @transition(
        field=status, source=S.REQUESTED, target=S.APPROVED, permission="returns.approve_return"
    )
    def approve(self, *, decided_by, reason: str | None = None) -> None:
        self.decision_reason = reason or None
        self.decided_by = decided_by
        self.decided_at = timezone.now()

    @transition(
        field=status, source=S.REQUESTED, target=S.REJECTED, permission="returns.reject_return"
    )
    def reject(self, *, decided_by, reason: str) -> None:
        self.decision_reason = reason
        self.decided_by = decided_by
        self.decided_at = timezone.now()

    @transition(
        field=status,
        source=S.APPROVED,
        target=S.IN_TRANSIT,
        permission="returns.mark_in_transit_return",
    )
    def mark_in_transit(
        self, *, carrier: str | None = None, tracking_number: str | None = None
    ) -> None:
        self.carrier = carrier or None
        self.tracking_number = tracking_number or None
        self.in_transit_at = timezone.now()

    @transition(
        field=status, source=S.IN_TRANSIT, target=S.RECEIVED, permission="returns.receive_return"
    )
    def receive(self, *, inspection_note: str | None = None) -> None:
        self.inspection_note = inspection_note or None
        self.received_at = timezone.now()

    @transition(
        field=status, source=S.RECEIVED, target=S.COMPLETED, permission="returns.complete_return"
    )
    def complete(self) -> None:
        self.completed_at = timezone.now()


class ReturnLine(models.Model):
    """Units of one order line coming back, with the price snapshot the refund is computed
    from (the order line's price could never change, but the return must not depend on it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # `return` is a Python keyword, hence `return_request` (also the signal's kwarg name).
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(LineItem, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    refund_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["return_request", "line_item__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "line_item"], name="return_line_once_per_item"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="return_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line_item.sku}"
