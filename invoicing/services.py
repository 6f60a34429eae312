"""Invoices (PRODUCT.md "Invoices"): every write to an Invoice goes through these functions.

Lifecycle: the ship transaction writes the invoice PENDING (`invoice_request_rollback_unsafe`,
from the `order_shipped` receiver) and sends `invoice_generate` on commit. The job
(`invoice_generate`) numbers, renders, stores and marks it GENERATED, then sends the e-mail
job on commit (`invoice_email_send`). Every step locks the invoice row and re-checks its state,
so a message delivered twice, or sent again by the sweep (`invoice_sweep`), changes nothing.
"""

import functools
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_fsm import can_proceed

from articurated.context import JOB, ActionContext
from articurated.errors import InvalidTransition, NotFound, PermissionDenied
from articurated.fsm import row_lock_rollback_unsafe
from articurated.jobs import (
    AttemptFailed,
    job_error_text,
    job_message_id,
    job_retry_delay_ms,
    job_send_on_commit,
)
from articurated.sequences import sequence_next_number_rollback_unsafe
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from invoicing.models import Invoice, InvoiceStatus
from invoicing.rendering import invoice_render_pdf
from orders.models import Order

logger = logging.getLogger(__name__)

S = InvoiceStatus


# --- sending (always on commit, never failing the committed request) -----------------------


# --- helpers --------------------------------------------------------------------------------


def _invoice_lock_rollback_unsafe(invoice_id) -> Invoice:
    return row_lock_rollback_unsafe(Invoice, invoice_id, label="Invoice", select_related=("order",))


def _audit_rollback_unsafe(
    invoice: Invoice,
    *,
    transition: str,
    previous: str,
    actor=None,
    context: ActionContext = JOB,
    reason: str | None = None,
    metadata: dict | None = None,
) -> None:
    # Named after the invoice (found with ?entity_type=INVOICE&entity_id=<invoice id>) and
    # carrying its order (order_id), so the order's history and timeline still list it. An
    # invoice not yet numbered (a retry before any attempt) goes by its order's number.
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.INVOICE,
        entity_id=invoice.pk,
        entity_number=invoice.number or invoice.order.number,
        order_id=invoice.order_id,
        transition=transition,
        previous_state=previous,
        new_state=invoice.status,
        actor=actor,
        context=context,
        reason=reason,
        metadata={
            "invoice_number": invoice.number,
            "order_id": str(invoice.order_id),
            "order_number": invoice.order.number,
            "attempts": invoice.attempts,
            **(metadata or {}),
        },
    )


def invoice_may_retry(actor) -> bool:
    return actor is None or actor.has_perm("invoicing.retry_invoice")


# --- requested by the ship transaction ------------------------------------------------------


def invoice_request_rollback_unsafe(*, order: Order) -> Invoice:
    """Writes the order's invoice PENDING and sends `invoice_generate` on commit. Only inside
    the ship transaction (from the `order_shipped` receiver), which holds the order lock."""
    assert transaction.get_connection().in_atomic_block, "inside the ship transaction"
    invoice, created = Invoice.objects.get_or_create(order=order)
    if created:
        job_send_on_commit("invoice_generate_job", str(invoice.pk))
    return invoice


# --- the job --------------------------------------------------------------------------------


def _attempt_start(invoice_id) -> Invoice | None:
    """Counts the attempt and gives the invoice its number, in one short transaction: the
    number commits together with the row that uses it (no gap, no duplicate), and the number
    sequence stays locked only for this instant, not while the PDF renders."""
    with transaction.atomic():
        invoice = _invoice_lock_rollback_unsafe(invoice_id)
        if invoice.status != S.PENDING:
            return None
        now = timezone.now()
        invoice.attempts += 1
        # While this attempt may still be running, the sweep leaves the invoice alone.
        time_limit = settings.JOBS_TIME_LIMIT_MS["invoices"]
        invoice.next_attempt_at = now + timedelta(milliseconds=time_limit)
        fields = ["attempts", "next_attempt_at", "updated_at"]
        if invoice.number is None:
            invoice.number = sequence_next_number_rollback_unsafe(prefix="INV")
            invoice.issued_at = now
            fields += ["number", "issued_at"]
        invoice.save(update_fields=fields)
    return invoice


def _attempt_succeeded(invoice_id, *, pdf: bytes) -> None:
    with transaction.atomic():
        invoice = _invoice_lock_rollback_unsafe(invoice_id)
        if invoice.status != S.PENDING:
            return  # another delivery of the message finished first
        replaced = invoice.pdf.name
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf), save=False)
        invoice.generate()
        invoice.save(
            update_fields=[
                "pdf",
                "status",
                "generated_at",
                "last_error",
                "next_attempt_at",
                "updated_at",
            ]
        )
        _audit_rollback_unsafe(invoice, transition="generate", previous=S.PENDING)
        if invoice.emailed_at is None:
            job_send_on_commit("invoice_email_send_job", str(invoice.pk))
        if replaced and replaced != invoice.pdf.name:  # a regenerated invoice
            transaction.on_commit(functools.partial(invoice.pdf.storage.delete, replaced))


def _attempt_failed(invoice_id, *, error: str) -> int | None:
    """Records the error. Returns the delay before the next attempt, or None when the invoice
    is now FAILED (retries used up) or no longer PENDING."""
    with transaction.atomic():
        invoice = _invoice_lock_rollback_unsafe(invoice_id)
        if invoice.status != S.PENDING:
            return None
        if invoice.attempts > settings.INVOICE_MAX_RETRIES:
            invoice.fail(error=error)
            invoice.save(update_fields=["status", "last_error", "updated_at"])
            _audit_rollback_unsafe(
                invoice, transition="fail", previous=S.PENDING, metadata={"error": error}
            )
            transaction.on_commit(
                functools.partial(
                    logger.error,
                    "Invoice %s of order %s FAILED after %d attempts: %s",
                    invoice.number,
                    invoice.order.number,
                    invoice.attempts,
                    error,
                )
            )
            return None
        delay_ms = job_retry_delay_ms(failed_attempts=invoice.attempts)
        invoice.last_error = error
        invoice.next_attempt_at = timezone.now() + timedelta(milliseconds=delay_ms)
        invoice.save(update_fields=["last_error", "next_attempt_at", "updated_at"])
        return delay_ms


def invoice_generate(*, invoice_id) -> None:
    """The invoice job: PENDING → GENERATED (or FAILED once INVOICE_MAX_RETRIES retries are
    used up). Called by the `invoice_generate_job` actor only. Safe to run any number of times:
    it locks the invoice and does nothing unless it is PENDING. Raises AttemptFailed
    when another attempt is due. Queues the e-mail job on commit."""
    try:
        invoice = _attempt_start(invoice_id)
    except NotFound:
        logger.warning("Invoice %s no longer exists; nothing to generate.", invoice_id)
        return
    if invoice is None:
        return
    if settings.JOBS_FAULT_DELAY_SECONDS:
        time.sleep(settings.JOBS_FAULT_DELAY_SECONDS)
    try:
        pdf = invoice_render_pdf(invoice=invoice)
        _attempt_succeeded(invoice_id, pdf=pdf)
    except Exception as exc:  # any failure is an attempt that failed
        error = job_error_text(exc)
        logger.warning("Invoice %s attempt %d failed: %s", invoice.number, invoice.attempts, error)
        delay_ms = _attempt_failed(invoice_id, error=error)
        if delay_ms is not None:
            raise AttemptFailed(error, delay_ms=delay_ms) from exc


def invoice_email_send(*, invoice_id) -> None:
    """E-mails a GENERATED invoice to the customer with its PDF attached, once. Called by the
    `invoice_email_send_job` actor only.

    Order of steps (claim, then send, then record): the invoice row is locked and checked
    (`emailed_at` unset), the message is handed to the mail server while the lock is held, and
    `emailed_at` commits with the lock's release. A second run (duplicate message, sweep) waits
    for the lock and then finds `emailed_at` set. The one gap no database closes: the worker
    dies after the mail server accepted the message and before the commit; the sweep then sends
    it again. So the message carries a Message-ID derived from the invoice, the same on every
    send, and receiving servers drop the duplicate (QUALITY.md "E-mail")."""
    with transaction.atomic():
        try:
            invoice = _invoice_lock_rollback_unsafe(invoice_id)
        except NotFound:
            return
        if invoice.status != S.GENERATED or invoice.emailed_at is not None:
            return
        order = invoice.order
        with invoice.pdf.storage.open(invoice.pdf.name, "rb") as stored:
            content = stored.read()
        body = render_to_string(
            "invoicing/invoice_email.txt",
            {
                "invoice": invoice,
                "order": order,
                "seller": settings.SELLER,
                "total": f"{order.total_amount:,.2f}",
            },
        )
        message = EmailMessage(
            subject=f"Your invoice {invoice.number} for order {order.number}",
            body=body,
            to=[order.customer_email],
            headers={"Message-ID": job_message_id("invoice", invoice.pk)},
        )
        message.attach(f"{invoice.number}.pdf", content, "application/pdf")
        message.send()
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at", "updated_at"])


# --- staff actions --------------------------------------------------------------------------


def _staff_transition(*, invoice_id, actor, context: ActionContext, name: str) -> Invoice:
    if not invoice_may_retry(actor):
        raise PermissionDenied("Your role may not retry or regenerate invoices.")
    invoice = _invoice_lock_rollback_unsafe(invoice_id)
    method = getattr(invoice, name)
    if not can_proceed(method):
        raise InvalidTransition(
            kind="invoice",
            number=invoice.number or f"of order {invoice.order.number}",
            current=invoice.status,
            requested=S.PENDING,
            allowed=[str(t.target) for t in invoice.get_available_status_transitions()],
        )
    previous, attempts = invoice.status, invoice.attempts
    method()
    invoice.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    _audit_rollback_unsafe(
        invoice,
        transition=name,
        previous=previous,
        actor=actor,
        context=context,
        metadata={"previous_attempts": attempts, "last_error": invoice.last_error or None},
    )
    job_send_on_commit("invoice_generate_job", str(invoice.pk))
    return invoice


@transaction.atomic
def invoice_retry(*, invoice_id, actor, context: ActionContext) -> Invoice:
    """FAILED (or stuck PENDING) → PENDING with a fresh set of attempts; sends the job on
    commit. Users with invoicing.retry_invoice (managers). Locks the invoice."""
    return _staff_transition(invoice_id=invoice_id, actor=actor, context=context, name="retry")


@transaction.atomic
def invoice_regenerate(*, invoice_id, actor, context: ActionContext) -> Invoice:
    """GENERATED → PENDING: renders the PDF again with the same number and date (for example
    after support corrected an address); the customer is not e-mailed again. Users with
    invoicing.retry_invoice. Locks the invoice; sends the job on commit."""
    return _staff_transition(invoice_id=invoice_id, actor=actor, context=context, name="regenerate")


# --- the sweep ------------------------------------------------------------------------------


def invoice_sweep(*, grace_seconds: float | None = None, limit: int = 500) -> int:
    """Sends again the work whose message was lost (broker down at commit, worker killed,
    in-memory queue of a restarted process): PENDING invoices, and GENERATED ones not yet
    e-mailed, due more than `grace_seconds` ago. Claims them with SKIP LOCKED and moves their
    due time, so concurrent sweeps do not both send. Returns how many it sent."""
    grace = settings.JOBS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    now = timezone.now()
    with transaction.atomic():
        overdue = list(
            Invoice.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=S.PENDING) | Q(status=S.GENERATED, emailed_at__isnull=True),
                next_attempt_at__lte=now - timedelta(seconds=grace),
            )
            .order_by("next_attempt_at")[:limit]
        )
        for invoice in overdue:
            invoice.next_attempt_at = now
            pending = invoice.status == S.PENDING
            job_send_on_commit(
                "invoice_generate_job" if pending else "invoice_email_send_job", str(invoice.pk)
            )
        Invoice.objects.bulk_update(overdue, ["next_attempt_at"])
    if overdue:
        logger.warning("Invoice sweep sent %d overdue jobs again.", len(overdue))
    return len(overdue)
