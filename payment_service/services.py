"""The payment service's domain: every write to its tables goes through these functions. No
gRPC here: transport/ turns requests into these calls and their errors into status codes; the
OMS calls the same functions in-process when PAYMENT_SERVICE_URL is unset.

Mutations (`payment_create`, `refund_create`) validate, claim the idempotency key, ask the
acquirer, then in one transaction write their rows and the stored answer. Their result says
whether the answer is a replay. `time_remaining` is the caller's deadline (seconds left, or None):
a call already past it does nothing, one that passes it before committing rolls back."""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pycountry
from django.conf import settings
from django.db import connection, transaction

from payment_service import idempotency
from payment_service.acquirer import acquirer_call
from payment_service.errors import (
    DeadlineExceeded,
    InvalidRequest,
    NotFound,
    PaymentNotSucceeded,
    RefundExceedsPayment,
)
from payment_service.models import Payment, PaymentStatus, Refund, RefundStatus

MAX_AMOUNT_MINOR = 10**13  # a hundred billion in a two-decimal currency
TimeRemaining = Callable[[], float | None]


@dataclass(frozen=True)
class Result:
    """A mutation's answer (a snapshot of the row, see `payment_view` / `refund_view`), and
    whether it was replayed from the idempotency record."""

    answer: dict[str, Any]
    replayed: bool


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "status": payment.status,
        "amount_minor": payment.amount_minor,
        "refunded_minor": payment.refunded_minor,
        "currency": payment.currency,
        "reference": payment.reference,
        "created_at": payment.created_at.isoformat(),
    }


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "payment_id": refund.payment_id,
        "status": refund.status,
        "amount_minor": refund.amount_minor,
        "reason": refund.reason,
        "created_at": refund.created_at.isoformat(),
    }


# --- validation -----------------------------------------------------------------------------


def _violations_raise(violations: list[tuple[str, str]]) -> None:
    if violations:
        raise InvalidRequest(violations)


def _key_check(key: str, violations: list) -> None:
    if not 1 <= len(key) <= 255:
        violations.append(("idempotency_key", "must be 1-255 characters"))


def _amount_check(amount_minor: int, violations: list) -> None:
    if not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        violations.append(("amount_minor", f"must be between 1 and {MAX_AMOUNT_MINOR}"))


def _text_check(name: str, value: str, limit: int, violations: list) -> None:
    if len(value) > limit:
        violations.append((name, f"must be at most {limit} characters"))


def _id_check(name: str, value: str) -> None:
    _violations_raise([(name, "is required")] if not value else [])


@functools.lru_cache(maxsize=512)
def _currency_known(code: str) -> bool:
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


# --- deadlines ------------------------------------------------------------------------------


def _deadline_check(time_remaining: TimeRemaining | None, when: str) -> None:
    left = time_remaining() if time_remaining else None
    if left is not None and left <= 0:
        raise DeadlineExceeded(f"The caller's deadline passed {when}; nothing was written.")


def _statement_timeout_ms(time_remaining: TimeRemaining | None) -> int | None:
    """The caller's deadline as a statement timeout (ms), on PostgreSQL: a lock wait or slow
    statement must not outlive the caller, PostgreSQL cancels it. None: no deadline, or one
    no shorter than the limit every connection already has (DATABASE_STATEMENT_TIMEOUT, set
    when it opens), which then cancels the statement first: raising the limit to the deadline
    would loosen it, and setting it again costs a statement."""
    left = time_remaining() if time_remaining else None
    # grpcio reports a call without a deadline as an enormous time remaining.
    if left is None or left >= 3600 or connection.vendor != "postgresql":
        return None
    timeout_ms = max(1, int(left * 1000))
    connection_limit_ms = int(settings.DATABASE_STATEMENT_TIMEOUT * 1000)
    if connection_limit_ms and timeout_ms >= connection_limit_ms:
        return None
    return timeout_ms


def _statement_timeout_set_rollback_unsafe(time_remaining: TimeRemaining | None) -> None:
    timeout_ms = _statement_timeout_ms(time_remaining)
    if timeout_ms is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])


def _fault_delay() -> None:
    if settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS:
        # Drills only: the call stalls with its work decided but not committed.
        time.sleep(settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS)


def _claim(
    *, client: str, method: str, key: str, fields: dict, time_remaining: TimeRemaining | None
) -> idempotency.Claim:
    _deadline_check(time_remaining, "before the call started")
    fingerprint = idempotency.request_fingerprint(method, fields)
    return idempotency.idempotency_claim(
        client=client, method=method, key=key, fingerprint=fingerprint
    )


def _mutate(
    *,
    client: str,
    method: str,
    key: str,
    fields: dict,
    acquirer_operation: str,
    work: Callable[[str], dict],
    time_remaining: TimeRemaining | None,
    precheck: Callable[[], None] | None = None,
) -> Result:
    """A mutation whose work (locks, reads, several rows) runs in one transaction with the
    stored answer."""
    claim = _claim(
        client=client, method=method, key=key, fields=fields, time_remaining=time_remaining
    )
    if claim.replayed:
        return Result(answer=claim.answer, replayed=True)
    try:
        if precheck is not None:
            precheck()
        acquirer_reference = acquirer_call(acquirer_operation, key=f"{client}:{method}:{key}")
        with transaction.atomic():
            _statement_timeout_set_rollback_unsafe(time_remaining)
            answer = work(acquirer_reference)
            _fault_delay()
            idempotency.idempotency_complete_rollback_unsafe(claim, answer=answer)
            _deadline_check(time_remaining, "before the call committed")
    except BaseException:
        idempotency.idempotency_release(claim)
        raise
    return Result(answer=answer, replayed=False)


def _mutate_insert(
    *,
    client: str,
    method: str,
    key: str,
    fields: dict,
    acquirer_operation: str,
    row: Callable[[str], Payment],
    view: Callable[[Payment], dict],
    time_remaining: TimeRemaining | None,
) -> Result:
    """A mutation whose whole effect is one new row: the row and its stored answer are
    written by one statement (`idempotency_complete_with_insert`), after the last deadline
    check; the caller's deadline bounds that statement too."""
    claim = _claim(
        client=client, method=method, key=key, fields=fields, time_remaining=time_remaining
    )
    if claim.replayed:
        return Result(answer=claim.answer, replayed=True)
    try:
        new_row = row(acquirer_call(acquirer_operation, key=f"{client}:{method}:{key}"))
        answer = view(new_row)
        _fault_delay()
        _deadline_check(time_remaining, "before the call committed")
        idempotency.idempotency_complete_with_insert(
            claim,
            answer=answer,
            row=new_row,
            statement_timeout_ms=_statement_timeout_ms(time_remaining),
        )
    except BaseException:
        idempotency.idempotency_release(claim)
        raise
    return Result(answer=answer, replayed=False)


# --- payments -------------------------------------------------------------------------------


def payment_create(
    *,
    client: str,
    idempotency_key: str,
    amount_minor: int,
    currency: str,
    reference: str = "",
    description: str = "",
    time_remaining: TimeRemaining | None = None,
) -> Result:
    """Takes a payment through the acquirer. Any authenticated client. Claims the idempotency
    key; writes the Payment and the stored answer in one transaction."""
    violations: list[tuple[str, str]] = []
    _key_check(idempotency_key, violations)
    _amount_check(amount_minor, violations)
    if not _currency_known(currency):
        violations.append(("currency", "must be an ISO 4217 code in upper case, e.g. USD"))
    _text_check("reference", reference, 120, violations)
    _text_check("description", description, 200, violations)
    _violations_raise(violations)
    fields = {
        "amount_minor": amount_minor,
        "currency": currency,
        "reference": reference,
        "description": description,
    }

    def row(acquirer_reference: str) -> Payment:
        return Payment(
            client=client,
            status=PaymentStatus.SUCCEEDED,
            acquirer_reference=acquirer_reference,
            **fields,
        )

    return _mutate_insert(
        client=client,
        method="CreatePayment",
        key=idempotency_key,
        fields=fields,
        acquirer_operation="charge",
        row=row,
        view=payment_view,
        time_remaining=time_remaining,
    )


def payment_get(*, payment_id: str) -> dict[str, Any]:
    _id_check("id", payment_id)
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"No payment {payment_id!r}.")
    return payment_view(payment)


# --- refunds --------------------------------------------------------------------------------


def refund_create(
    *,
    client: str,
    idempotency_key: str,
    payment_id: str,
    amount_minor: int,
    reason: str = "",
    time_remaining: TimeRemaining | None = None,
) -> Result:
    """Pays `amount_minor` of a payment back. Any authenticated client. Claims the idempotency
    key; locks the payment, refuses to refund more than is left (RefundExceedsPayment; the
    table's CHECK refuses it too), writes the Refund, the payment's new refunded sum and the
    stored answer in one transaction."""
    violations: list[tuple[str, str]] = []
    _key_check(idempotency_key, violations)
    if not payment_id:
        violations.append(("payment_id", "is required"))
    _amount_check(amount_minor, violations)
    _text_check("reason", reason, 200, violations)
    _violations_raise(violations)
    fields = {"payment_id": payment_id, "amount_minor": amount_minor, "reason": reason}

    def precheck() -> None:
        # Before the acquirer is asked (and again under the lock): no money moves for a refund
        # that cannot be made.
        _refundable_check(Payment.objects.filter(pk=payment_id).first(), payment_id, amount_minor)

    def work(acquirer_reference: str) -> dict:
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        _refundable_check(payment, payment_id, amount_minor)
        refund = Refund.objects.create(
            payment=payment,
            status=RefundStatus.SUCCEEDED,
            amount_minor=amount_minor,
            reason=reason,
            acquirer_reference=acquirer_reference,
        )
        payment.refunded_minor += amount_minor
        payment.save(update_fields=["refunded_minor"])
        return refund_view(refund)

    return _mutate(
        client=client,
        method="RefundPayment",
        key=idempotency_key,
        fields=fields,
        acquirer_operation="refund",
        work=work,
        time_remaining=time_remaining,
        precheck=precheck,
    )


def _refundable_check(payment: Payment | None, payment_id: str, amount_minor: int) -> None:
    if payment is None:
        raise NotFound(f"No payment {payment_id!r}.")
    if payment.status != PaymentStatus.SUCCEEDED:
        raise PaymentNotSucceeded(f"Payment {payment_id} did not succeed; nothing to refund.")
    if payment.refunded_minor + amount_minor > payment.amount_minor:
        raise RefundExceedsPayment(
            f"A refund of {amount_minor} would take payment {payment_id}'s refunds to "
            f"{payment.refunded_minor + amount_minor}, above the {payment.amount_minor} paid.",
            amount_minor=payment.amount_minor,
            refunded_minor=payment.refunded_minor,
        )


def refund_get(*, refund_id: str) -> dict[str, Any]:
    _id_check("id", refund_id)
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise NotFound(f"No refund {refund_id!r}.")
    return refund_view(refund)
