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
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def ship(order):
    from orders.services import order_ship

    return order_ship(
        order_id=order.pk,
        actor=None,
        context=TEST_CONTEXT,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )


def shipped_order(**overrides):
    """An order shipped through the real services (its invoice is PENDING and queued)."""
    return ship(order_make("PROCESSING_IN_WAREHOUSE", **overrides))
