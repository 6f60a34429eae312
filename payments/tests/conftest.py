"""Helpers for the job tests (the `jobs` fixture, a StubBroker and a real worker, is in the root
conftest). Worker threads use their own database connections, so tests that run jobs need
committed data (transactional_db)."""

import pytest

from conftest import _CHAIN, PATH_TO, TEST_CONTEXT, order_make


@pytest.fixture(autouse=True)
def _gateway_reliable(settings):
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 0
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    settings.REFUND_GATEWAY = "payments.gateways.PaymentServiceGateway"
    settings.PAYMENT_SERVICE_URL = ""


@pytest.fixture(params=["in-process", "grpc"])
def payment_path(request, settings):
    """Runs a test twice: the OMS calling the payment service in-process, and over gRPC (a
    real server on a free port, PAYMENT_SERVICE_URL pointing at it)."""
    if request.param == "grpc":
        server = request.getfixturevalue("grpc_server")
        settings.PAYMENT_SERVICE_URL = f"127.0.0.1:{server.port}"
    return request.param


def order_paid_make(status: str = "PAID", **overrides):
    """An order in `status` (PAID or later) whose payment was taken by the payment service, so
    that its refunds have a payment to refund."""
    from orders.services import order_change_state
    from payment_service.client import InProcessClient, minor_units

    order = order_make("PENDING_PAYMENT", **overrides)
    payment = InProcessClient().payment_create(
        idempotency_key=f"test-pay-{order.number}",
        amount_minor=minor_units(order.total_amount),
        currency=order.currency,
        reference=order.number,
    )
    steps = [("PAID", {"payment_reference": payment["id"], "payment_method": "card"})]
    steps += [PATH_TO[state][0] for state in _CHAIN[1 : _CHAIN.index(status) + 1]]
    for new_state, params in steps:
        order = order_change_state(
            order_id=order.pk, actor=None, context=TEST_CONTEXT, new_state=new_state, **params
        )
    return order


def service_refunds(order) -> list:
    """What the payment service paid back for the order's payment."""
    from payment_service.models import Refund as ServiceRefund

    return list(ServiceRefund.objects.filter(payment_id=order.payment_reference))


def cancel(order):
    from orders.services import order_cancel

    return order_cancel(order_id=order.pk, actor=None, context=TEST_CONTEXT, reason="changed mind")


def cancelled_paid_order(**overrides):
    """A PAID order cancelled through the real services (its refund is PENDING and queued)."""
    return cancel(order_paid_make("PAID", **overrides))


def completed_return(**overrides):
    """A DELIVERED order with one vase of two returned and the return COMPLETED through the
    real services (its refund is PENDING and queued)."""
    from returns.services import return_change_state, return_create

    order = order_paid_make("DELIVERED", **overrides)
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
