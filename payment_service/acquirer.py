"""The simulated acquirer: the bank side of a payment or refund. It lives in the service's
database and can be told to fail, for demos, tests and drills:

- SIMULATED_GATEWAY_ALWAYS_FAIL=true: every refund fails;
- SIMULATED_GATEWAY_FAIL_TIMES=N: the first N refund calls for each idempotency key fail.

The names are the ones the OMS's old in-process gateway read, so existing setups keep working.
Failures are counted in AcquirerFault rows, committed on their own (a failure is a fact even
though the call's own transaction rolls back), so the count holds across restarts. A failure
raises AcquirerUnavailable before anything is written: the caller retries with the same key."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from payment_service.errors import AcquirerUnavailable
from payment_service.models import AcquirerFault


def _failure_count(operation: str, key: str) -> int:
    """Adds one failure for this key unless it has failed FAIL_TIMES times already; returns
    the count before, or -1 when the call may pass."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                AcquirerFault.objects.create(operation=operation, key=key, failures=0)
        except IntegrityError:
            pass
        fault = AcquirerFault.objects.select_for_update().get(operation=operation, key=key)
        if fault.failures >= settings.SIMULATED_GATEWAY_FAIL_TIMES:
            return -1
        AcquirerFault.objects.filter(pk=fault.pk).update(failures=F("failures") + 1)
        return fault.failures


def acquirer_call(operation: str, *, key: str) -> str:
    """Asks the acquirer to take a `operation` ("charge" or "refund") for `key`; returns its
    reference, or raises AcquirerUnavailable. Called outside any transaction, so that the
    failure count commits on its own."""
    prefix = "sim_ch" if operation == "charge" else "sim_re"
    if operation != "refund":
        # The switches are the refund gateway's (their names say so): payments, and so the
        # demo's orders, go through whatever they are set to.
        return f"{prefix}_{secrets.token_hex(12)}"
    if settings.SIMULATED_GATEWAY_ALWAYS_FAIL:
        raise AcquirerUnavailable(
            "Simulated acquirer: unavailable (SIMULATED_GATEWAY_ALWAYS_FAIL)."
        )
    if settings.SIMULATED_GATEWAY_FAIL_TIMES > 0:
        failed = _failure_count(operation, key)
        if failed >= 0:
            raise AcquirerUnavailable(
                f"Simulated acquirer: unavailable (failure {failed + 1} of "
                f"{settings.SIMULATED_GATEWAY_FAIL_TIMES})."
            )
    return f"{prefix}_{secrets.token_hex(12)}"
