"""Background jobs in tests: the in-memory StubBroker (settings, when pytest runs) and a real
dramatiq.Worker that processes what the code under test queued. Worker threads use their own
database connections, so tests that run jobs need committed data (transactional_db)."""

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from conftest import TEST_CONTEXT, order_make


class Jobs:
    def __init__(self, broker: StubBroker) -> None:
        self.broker = broker

    def queued(self, queue: str) -> list[dramatiq.Message]:
        """The messages waiting on a queue (and its delay queue), without consuming them."""
        waiting = []
        for name in (queue, f"{queue}.DQ"):
            waiting += [
                dramatiq.Message.decode(raw) for raw in list(self.broker.queues[name].queue)
            ]
        return waiting

    def drain(self, *, threads: int = 4) -> None:
        """Runs a worker until every queue is empty, including the messages the jobs send and
        the retries they schedule. Re-raises any message that ended up dead-lettered."""
        worker = dramatiq.Worker(self.broker, worker_timeout=20, worker_threads=threads)
        worker.start()
        try:
            while True:
                for name in list(self.broker.queues):
                    if not name.endswith((".DQ", ".XQ")):
                        # A guard against a hang, not a timing assertion.
                        self.broker.join(name, timeout=120_000, fail_fast=True)
                worker.join()
                if not any(q.unfinished_tasks for q in self.broker.queues.values()):
                    return
        finally:
            worker.stop()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The role users' passwords need no real hashing here (PBKDF2 costs ~0.5 s per user).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def jobs():
    broker = dramatiq.get_broker()
    assert isinstance(broker, StubBroker), "tests run jobs on the StubBroker"
    broker.flush_all()
    yield Jobs(broker)
    broker.flush_all()


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
