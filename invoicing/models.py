import uuid

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from orders.models import Order


class InvoiceStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    GENERATED = "GENERATED", "Generated"
    FAILED = "FAILED", "Failed"


S = InvoiceStatus


class Invoice(models.Model):
    """The invoice of a shipped order, and the state of the background job that produces it.

    Written PENDING inside the ship transaction (so a lost message can be found and sent again);
    the job gives it its number, renders and stores the PDF, then a second job e-mails it.
    `status` changes only through the @transition methods, called by invoicing/services.py."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    # INV-YYYY-NNNNNN; allocated by the job in the transaction that records it on this row.
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    status = FSMField(max_length=10, choices=InvoiceStatus.choices, default=S.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    pdf = models.FileField(upload_to="invoices/%Y/%m/", blank=True, max_length=200)
    # The invoice date: when the number was allocated (it decides the number's year).
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    generated_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the next step (render, retry, e-mail) is due; the sweep re-sends work overdue by more
    # than JOBS_SWEEP_GRACE_SECONDS.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="invoice_status_due")]
        permissions = [("retry_invoice", "Can retry or regenerate an invoice")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=S.GENERATED) | models.Q(number__isnull=False),
                name="invoice_generated_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Invoice of {self.order.number} ({self.get_status_display()})"

    # Transitions: pure, touching only this row's fields.
    @transition(field=status, source=S.PENDING, target=S.GENERATED)
    def generate(self) -> None:
        self.generated_at = timezone.now()
        self.last_error = ""
        self.next_attempt_at = self.generated_at  # the e-mail is due now

    @transition(field=status, source=S.PENDING, target=S.FAILED)
    def fail(self, *, error: str) -> None:
        self.last_error = error

    @transition(field=status, source=[S.PENDING, S.FAILED], target=S.PENDING)
    def retry(self) -> None:
        self.attempts = 0
        self.next_attempt_at = timezone.now()

    @transition(field=status, source=S.GENERATED, target=S.PENDING)
    def regenerate(self) -> None:
        self.attempts = 0
        self.next_attempt_at = timezone.now()
