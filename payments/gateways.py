"""The payment gateway seen from the OMS: one call, refund(), chosen by settings.REFUND_GATEWAY
(a dotted path). A real provider's adapter implements the same protocol and must pass the
idempotency key through, so that a retried call never pays twice."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from payment_service.client import minor_units, payment_client_get
from payment_service.errors import IdempotencyInProgress, PaymentServiceError
from payments.models import GatewayTransaction, SimulatedGatewayFailure


class GatewayError(Exception):
    """The gateway refused the refund or could not be reached; the job retries later."""


class GatewayBusy(GatewayError):
    """Another call with the same idempotency key is running right now (a second delivery of
    the same refund message). Not a failed attempt: that other call owns the outcome."""


@dataclass(frozen=True)
class GatewayRefund:
    reference: str


class RefundGateway(Protocol):
    def refund(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payment_reference: str | None,
        description: str,
    ) -> GatewayRefund:
        """Pays `amount` back, or returns the refund already made with this key. Raises
        GatewayError when it did not pay."""
        ...


def gateway_get() -> RefundGateway:
    return import_string(settings.REFUND_GATEWAY)()


class SimulatedGateway:
    """A gateway in the OMS's own database, for demos, tests and drills.

    SIMULATED_GATEWAY_ALWAYS_FAIL makes every call fail; SIMULATED_GATEWAY_FAIL_TIMES=N makes
    the first N calls for each idempotency key fail (counted in the database, so N in all across
    worker processes). A call that pays
    writes a GatewayTransaction in its own transaction — like a remote system, it does not
    roll back with the caller — and a second call with the same key returns that one."""

    def refund(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payment_reference: str | None,
        description: str,
    ) -> GatewayRefund:
        if settings.SIMULATED_GATEWAY_ALWAYS_FAIL:
            raise GatewayError("Simulated gateway: declined (SIMULATED_GATEWAY_ALWAYS_FAIL).")
        failure = self._failure_count(idempotency_key)
        if failure is not None:
            raise GatewayError(
                f"Simulated gateway: unavailable (failure {failure} of "
                f"{settings.SIMULATED_GATEWAY_FAIL_TIMES})."
            )
        existing = GatewayTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = GatewayTransaction.objects.create(
                        idempotency_key=idempotency_key,
                        reference=f"sim_re_{uuid.uuid4().hex[:24]}",
                        amount=amount,
                        currency=currency,
                        payment_reference=payment_reference or "",
                        description=description[:200],
                    )
            except IntegrityError:  # a concurrent call with the same key paid first
                existing = GatewayTransaction.objects.get(idempotency_key=idempotency_key)
        if existing.amount != amount or existing.currency != currency:
            raise GatewayError("Simulated gateway: idempotency key reused for another amount.")
        return GatewayRefund(reference=existing.reference)

    @staticmethod
    def _failure_count(idempotency_key: str) -> int | None:
        """Counts one more failure for the key, in its own transaction under a row lock, while
        fewer than SIMULATED_GATEWAY_FAIL_TIMES were counted; returns its number, or None when
        this call is to succeed."""
        wanted = settings.SIMULATED_GATEWAY_FAIL_TIMES
        if wanted <= 0:
            return None
        with transaction.atomic():
            counter, _ = SimulatedGatewayFailure.objects.select_for_update().get_or_create(
                idempotency_key=idempotency_key
            )
            if counter.failures >= wanted:
                return None
            counter.failures += 1
            counter.save(update_fields=["failures"])
            return counter.failures


class PaymentServiceGateway:
    """Refunds paid by the payment service (payment_service/, PRODUCT.md "Payment service"):
    RefundPayment over gRPC when PAYMENT_SERVICE_URL is set, the same domain call in-process
    otherwise. The refund's own idempotency key goes with every attempt, so a retry after a
    lost answer (UNAVAILABLE, DEADLINE_EXCEEDED, a killed server) returns the refund already
    made instead of paying twice."""

    def refund(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payment_reference: str | None,
        description: str,
    ) -> GatewayRefund:
        if not payment_reference:
            raise GatewayError("The order has no payment reference to refund.")
        try:
            refund = payment_client_get().refund_create(
                idempotency_key=idempotency_key,
                payment_id=payment_reference,
                amount_minor=minor_units(amount),
                reason=description[:200],
            )
        except IdempotencyInProgress as error:
            raise GatewayBusy(f"{error.reason}: {error.message}") from error
        except PaymentServiceError as error:
            raise GatewayError(f"{error.reason}: {error.message}") from error
        return GatewayRefund(reference=refund["id"])
