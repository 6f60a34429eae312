"""Helpers for the job tests (the `jobs` fixture, a StubBroker and a real worker, is in the root
conftest). Worker threads use their own database connections, so tests that run jobs need
committed data (transactional_db)."""

import pytest

from conftest import TEST_CONTEXT, order_make


@pytest.fixture(autouse=True)
def _gateway_reliable(settings):
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 0
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    settings.REFUND_GATEWAY = "payments.gateways.SimulatedGateway"


def cancel(order):
    from orders.services import order_cancel

    return order_cancel(order_id=order.pk, actor=None, context=TEST_CONTEXT, reason="changed mind")


def cancelled_paid_order(**overrides):
    """A PAID order cancelled through the real services (its refund is PENDING and queued)."""
    return cancel(order_make("PAID", **overrides))


def completed_return(**overrides):
    """A DELIVERED order with one vase of two returned and the return COMPLETED through the
    real services (its refund is PENDING and queued)."""
    from returns.services import return_change_state, return_create

    order = order_make("DELIVERED", **overrides)
    line = order.items.get()
    return_obj = return_create(
        actor=None,
        context=TEST_CONTEXT,
        order_id=order.pk,
        reason="DAMAGED",
        items=[{"line_item_id": line.pk, "quantity": 1}],
    )
    params = {
        "APPROVED": {"reason": "fine"},
        "IN_TRANSIT": {"carrier": "UPS", "tracking_number": "1ZRET"},
        "RECEIVED": {"inspection_note": "cracked"},
        "COMPLETED": {},
    }
    for state, kwargs in params.items():
        return_obj = return_change_state(
            return_id=return_obj.pk, actor=None, context=TEST_CONTEXT, new_state=state, **kwargs
        )
    return return_obj
