"""The payment gateway seen from the OMS: one call, refund(), chosen by settings.REFUND_GATEWAY
(a dotted path). A real provider's adapter implements the same protocol and must pass the
idempotency key through, so that a retried call never pays twice."""

import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from payments.models import GatewayTransaction


class GatewayError(Exception):
    """The gateway refused the refund or could not be reached; the job retries later."""


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
    the first N calls for each idempotency key fail (counted per process). A call that pays
    writes a GatewayTransaction in its own transaction — like a remote system, it does not
    roll back with the caller — and a second call with the same key returns that one."""

    _failures: dict[str, int] = {}
    _lock = threading.Lock()

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
        with self._lock:
            failed = self._failures.get(idempotency_key, 0)
            if failed < settings.SIMULATED_GATEWAY_FAIL_TIMES:
                self._failures[idempotency_key] = failed + 1
                raise GatewayError(
                    f"Simulated gateway: unavailable (failure {failed + 1} of "
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
