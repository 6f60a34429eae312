"""Refunds (PRODUCT.md "Refunds"): every write to a Refund goes through these functions.

Lifecycle: cancelling a PAID order or completing a return writes the refund PENDING in the same
transaction (`refund_request_rollback_unsafe`, from the signal receivers) and sends
`refund_process` on commit. The job calls the gateway outside any transaction with the refund's
idempotency key, then marks it SUCCEEDED (customer e-mailed on commit) — or, once
REFUND_MAX_RETRIES retries are used up, FAILED (managers e-mailed, CRITICAL logged). Every step
locks the refund row and re-checks its state, so duplicate messages and the sweep
(`refund_sweep`) change nothing.
"""

import functools
import logging
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_fsm import can_proceed

from articurated.context import JOB, ActionContext
from articurated.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from articurated.fsm import row_lock_rollback_unsafe
from articurated.jobs import (
    AttemptFailed,
    job_error_text,
    job_message_id,
    job_retry_delay_ms,
    job_send_on_commit,
)
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from orders.models import Order
from payments.gateways import GatewayBusy, gateway_get
from payments.models import Refund, RefundReason, RefundStatus
from returns.models import Return

logger = logging.getLogger(__name__)

S = RefundStatus


class RefundExceedsTotal(Conflict):
    code = "REFUND_EXCEEDS_TOTAL"


# --- sending (always on commit, never failing the committed request) -----------------------


# --- helpers --------------------------------------------------------------------------------


def _refund_lock_rollback_unsafe(refund_id) -> Refund:
    return row_lock_rollback_unsafe(
        Refund, refund_id, label="Refund", select_related=("order", "return_request")
    )


def _audit_rollback_unsafe(
    refund: Refund,
    *,
    transition: str,
    previous: str,
    actor=None,
    context: ActionContext = JOB,
    metadata: dict | None = None,
) -> None:
    # Named after the refund (found with ?entity_type=REFUND&entity_id=<refund id>) and
    # carrying its order (order_id), so the order's history and timeline still list it. A
    # refund has no number of its own: entity_number is its order's.
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.REFUND,
        entity_id=refund.pk,
        entity_number=refund.order.number,
        order_id=refund.order_id,
        transition=transition,
        previous_state=previous,
        new_state=refund.status,
        actor=actor,
        context=context,
        metadata={
            "refund_id": str(refund.pk),
            "order_id": str(refund.order_id),
            "order_number": refund.order.number,
            "amount": str(refund.amount),
            "currency": refund.currency,
            "return_number": refund.return_request.number if refund.return_request else None,
            "attempts": refund.attempts,
            **(metadata or {}),
        },
    )


def refund_may_retry(actor) -> bool:
    return actor is None or actor.has_perm("payments.retry_refund")


# --- requested by the cancel / return-complete transactions ---------------------------------


def refund_request_rollback_unsafe(
    *, order: Order, amount: Decimal, reason: str, return_request: Return | None = None
) -> Refund | None:
    """Writes a PENDING refund and sends `refund_process` on commit. Only inside the transaction
    that cancels the order or completes the return (from the signal receivers). Locks the order
    (the cancel transaction already holds it) and refuses a refund that would take the order's
    refunds above its total — FAILED ones count, they are still owed and may be retried; the
    database trigger refuses it too. Nothing for a zero amount."""
    assert transaction.get_connection().in_atomic_block, "inside the state change's transaction"
    if amount <= 0:
        return None
    order = Order.objects.select_for_update().get(pk=order.pk)
    refunded = order.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    if refunded + amount > order.total_amount:
        raise RefundExceedsTotal(
            f"A refund of {order.currency} {amount} would take order {order.number}'s refunds "
            f"to {refunded + amount}, above its total of {order.total_amount}.",
            details={
                "total_amount": str(order.total_amount),
                "refunded_amount": str(refunded),
                "requested_amount": str(amount),
            },
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                order=order,
                return_request=return_request,
                reason=reason,
                amount=amount,
                currency=order.currency,
            )
    except IntegrityError as error:  # the trigger: someone bypassed the check above
        raise RefundExceedsTotal(str(error)) from error
    job_send_on_commit("refund_process_job", str(refund.pk))
    return refund


def refund_request_for_cancellation_rollback_unsafe(*, order: Order) -> Refund | None:
    return refund_request_rollback_unsafe(
        order=order, amount=order.total_amount, reason=RefundReason.CANCELLATION
    )


def refund_request_for_return_rollback_unsafe(*, return_request: Return) -> Refund | None:
    return refund_request_rollback_unsafe(
        order=return_request.order,
        amount=return_request.refund_amount,
        reason=RefundReason.RETURN,
        return_request=return_request,
    )


# --- the job --------------------------------------------------------------------------------


def _attempt_start(refund_id) -> Refund | None:
    with transaction.atomic():
        refund = _refund_lock_rollback_unsafe(refund_id)
        if refund.status != S.PENDING:
            return None
        refund.attempts += 1
        # While this attempt may still be running, the sweep leaves the refund alone.
        time_limit = settings.JOBS_TIME_LIMIT_MS["refunds"]
        refund.next_attempt_at = timezone.now() + timedelta(milliseconds=time_limit)
        refund.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return refund


def _attempt_succeeded(refund_id, *, reference: str) -> None:
    with transaction.atomic():
        refund = _refund_lock_rollback_unsafe(refund_id)
        if refund.status == S.SUCCEEDED:
            return  # another delivery of the message finished first
        previous = refund.status
        refund.succeed(reference=reference)
        refund.save(
            update_fields=[
                "status",
                "reference",
                "succeeded_at",
                "last_error",
                "next_attempt_at",
                "updated_at",
            ]
        )
        _audit_rollback_unsafe(
            refund, transition="succeed", previous=previous, metadata={"reference": reference}
        )
        job_send_on_commit("refund_customer_email_job", str(refund.pk))


def _attempt_stood_down(refund_id) -> None:
    """This delivery found another one paying the same refund right now: it gives back the
    attempt it counted and leaves the outcome (and the lease it set) to the one in flight. If
    that worker dies, the payment service's hold on the key ends with it and the sweep sends
    the refund again once the lease has run out."""
    with transaction.atomic():
        refund = _refund_lock_rollback_unsafe(refund_id)
        if refund.status == S.PENDING and refund.attempts > 0:
            refund.attempts -= 1
            refund.save(update_fields=["attempts", "updated_at"])


def _attempt_failed(refund_id, *, error: str) -> int | None:
    """Records the error. Returns the delay before the next attempt, or None when the refund
    is now FAILED (retries used up) or no longer PENDING."""
    with transaction.atomic():
        refund = _refund_lock_rollback_unsafe(refund_id)
        if refund.status != S.PENDING:
            return None
        if refund.attempts > settings.REFUND_MAX_RETRIES:
            refund.fail(error=error)
            refund.save(
                update_fields=["status", "last_error", "failed_at", "next_attempt_at", "updated_at"]
            )
            _audit_rollback_unsafe(
                refund, transition="fail", previous=S.PENDING, metadata={"error": error}
            )
            transaction.on_commit(
                functools.partial(
                    logger.critical,
                    "Refund %s of %s %s for order %s FAILED after %d attempts; managers alerted. "
                    "Last error: %s",
                    refund.pk,
                    refund.currency,
                    refund.amount,
                    refund.order.number,
                    refund.attempts,
                    error,
                )
            )
            job_send_on_commit("refund_failure_alert_job", str(refund.pk))
            return None
        delay_ms = job_retry_delay_ms(failed_attempts=refund.attempts)
        refund.last_error = error
        refund.next_attempt_at = timezone.now() + timedelta(milliseconds=delay_ms)
        refund.save(update_fields=["last_error", "next_attempt_at", "updated_at"])
        return delay_ms


def refund_process(*, refund_id) -> None:
    """The refund job: asks the gateway to pay, with the refund's idempotency key, outside any
    transaction (a remote call must not hold our locks, and its effect does not roll back with
    ours). PENDING → SUCCEEDED, or FAILED once REFUND_MAX_RETRIES retries are used up. Called by
    the `refund_process_job` actor only. Safe to run any number of times: a refund that is not
    PENDING is left alone, and the key makes a repeated gateway call return the first payment.
    Raises AttemptFailed when another attempt is due."""
    try:
        refund = _attempt_start(refund_id)
    except NotFound:
        logger.warning("Refund %s no longer exists; nothing to pay.", refund_id)
        return
    if refund is None:
        return
    if settings.JOBS_FAULT_DELAY_SECONDS:
        time.sleep(settings.JOBS_FAULT_DELAY_SECONDS)
    assert not transaction.get_connection().in_atomic_block, "gateway calls hold no transaction"
    try:
        result = gateway_get().refund(
            idempotency_key=refund.idempotency_key,
            amount=refund.amount,
            currency=refund.currency,
            payment_reference=refund.order.payment_reference,
            description=f"Refund for order {refund.order.number}",
        )
    except GatewayBusy as exc:
        logger.info(
            "Refund %s is being paid by another delivery (%s); standing down.", refund.pk, exc
        )
        _attempt_stood_down(refund_id)
        return
    except Exception as exc:  # any other failure is an attempt that failed
        error = job_error_text(exc)
        logger.warning("Refund %s attempt %d failed: %s", refund.pk, refund.attempts, error)
        delay_ms = _attempt_failed(refund_id, error=error)
        if delay_ms is not None:
            raise AttemptFailed(error, delay_ms=delay_ms) from exc
        return
    _attempt_succeeded(refund_id, reference=result.reference)


def _email_once(refund_id, *, status: str, sent_field: str, build) -> None:
    """Sends one e-mail for a refund in `status` unless `sent_field` is set.

    Claim, then send, then record: the refund row is locked and checked, the message goes to
    the mail server while the lock is held, and `sent_field` commits as the lock is released, so
    a second run sends nothing. If the worker dies between the mail server's accept and the
    commit, the sweep sends it again: `build` gives each message a Message-ID derived from the
    refund, the same on every send, so receiving servers drop the duplicate."""
    with transaction.atomic():
        try:
            refund = _refund_lock_rollback_unsafe(refund_id)
        except NotFound:
            return
        if refund.status != status or getattr(refund, sent_field) is not None:
            return
        build(refund).send()
        setattr(refund, sent_field, timezone.now())
        refund.save(update_fields=[sent_field, "updated_at"])


def _customer_email(refund: Refund) -> EmailMessage:
    order = refund.order
    what = (
        f"your return {refund.return_request.number}"
        if refund.return_request
        else "the cancellation of your order"
    )
    return EmailMessage(
        subject=f"Your refund of {refund.currency} {refund.amount:,.2f} for order {order.number}",
        body=(
            f"Dear {order.customer_name},\n\n"
            f"we have refunded {refund.currency} {refund.amount:,.2f} for {what} "
            f"(order {order.number}). Depending on your bank it can take a few days to show on "
            f"your statement.\n\nRefund reference: {refund.reference}\n\n"
            f"Warm regards,\n{settings.SELLER['name']}\n"
        ),
        to=[order.customer_email],
        headers={"Message-ID": job_message_id("refund", refund.pk, "customer")},
    )


def _managers_alert(refund: Refund) -> EmailMessage:
    order = refund.order
    return EmailMessage(
        subject=f"[ArtiCurated] Refund FAILED: order {order.number}, "
        f"{refund.currency} {refund.amount:,.2f}",
        body=(
            f"The refund {refund.pk} of {refund.currency} {refund.amount:,.2f} for order "
            f"{order.number} ({order.customer_email}) failed after {refund.attempts} attempts.\n\n"
            f"Last error: {refund.last_error}\n\n"
            "Nothing was paid. Retry it from the admin (Payments › Refunds) once the cause is "
            "fixed; the gateway's idempotency key guarantees it is never paid twice.\n"
        ),
        to=list(settings.MANAGER_EMAILS),
        # One alert per failure: a refund retried and failed again is a new message.
        headers={
            "Message-ID": job_message_id(
                "refund", refund.pk, "failed", int(refund.failed_at.timestamp())
            )
        },
    )


def refund_customer_email_send(*, refund_id) -> None:
    """E-mails the customer that a SUCCEEDED refund was paid, once. Job only."""
    _email_once(
        refund_id, status=S.SUCCEEDED, sent_field="customer_notified_at", build=_customer_email
    )


def refund_failure_alert_send(*, refund_id) -> None:
    """E-mails settings.MANAGER_EMAILS that a refund FAILED, once per failure. Job only."""
    _email_once(refund_id, status=S.FAILED, sent_field="managers_alerted_at", build=_managers_alert)


# --- staff actions --------------------------------------------------------------------------


@transaction.atomic
def refund_retry(*, refund_id, actor, context: ActionContext) -> Refund:
    """FAILED (or stuck PENDING) → PENDING with a fresh set of attempts; sends the job on
    commit. The same idempotency key goes to the gateway, so it never pays twice. Users with
    payments.retry_refund (managers). Locks the refund."""
    if not refund_may_retry(actor):
        raise PermissionDenied("Your role may not retry refunds.")
    refund = _refund_lock_rollback_unsafe(refund_id)
    if not can_proceed(refund.retry):
        raise InvalidTransition(
            kind="refund",
            number=f"of order {refund.order.number}",
            current=refund.status,
            requested=S.PENDING,
            allowed=[],
        )
    previous, attempts = refund.status, refund.attempts
    refund.retry()
    refund.save(
        update_fields=[
            "status",
            "attempts",
            "failed_at",
            "managers_alerted_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    _audit_rollback_unsafe(
        refund,
        transition="retry",
        previous=previous,
        actor=actor,
        context=context,
        metadata={"previous_attempts": attempts, "last_error": refund.last_error or None},
    )
    job_send_on_commit("refund_process_job", str(refund.pk))
    return refund


# --- the sweep ------------------------------------------------------------------------------

_NEXT_STEP = {
    S.PENDING: "refund_process_job",
    S.SUCCEEDED: "refund_customer_email_job",
    S.FAILED: "refund_failure_alert_job",
}


def refund_sweep(*, grace_seconds: float | None = None, limit: int = 500) -> int:
    """Sends again the work whose message was lost: PENDING refunds, SUCCEEDED ones whose
    customer was not e-mailed, FAILED ones whose managers were not alerted, due more than
    `grace_seconds` ago. Claims them with SKIP LOCKED and moves their due time, so concurrent
    sweeps do not both send. Returns how many it sent."""
    grace = settings.JOBS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    now = timezone.now()
    with transaction.atomic():
        overdue = list(
            Refund.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=S.PENDING)
                | Q(status=S.SUCCEEDED, customer_notified_at__isnull=True)
                | Q(status=S.FAILED, managers_alerted_at__isnull=True),
                next_attempt_at__lte=now - timedelta(seconds=grace),
            )
            .order_by("next_attempt_at")[:limit]
        )
        for refund in overdue:
            refund.next_attempt_at = now
            job_send_on_commit(_NEXT_STEP[refund.status], str(refund.pk))
        Refund.objects.bulk_update(overdue, ["next_attempt_at"])
    if overdue:
        logger.warning("Refund sweep sent %d overdue jobs again.", len(overdue))
    return len(overdue)
