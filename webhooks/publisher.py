"""Hands delivery messages to the broker from a background thread of the process, so the
request that committed the change does not wait on RabbitMQ (PRODUCT.md: producing events adds
no network call to any request). The delivery rows are committed first; a message this thread
never sent (the process died) is sent by the sweep once it is overdue."""

import logging
import queue
import threading

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)

DELIVER_ACTOR = "webhook_deliver_job"


def deliver_send(delivery_id: str, delay_ms: int = 0) -> None:
    """Sends one delivery's message now. A broker that is down is logged: the sweep re-sends."""
    try:
        actor = dramatiq.get_broker().get_actor(DELIVER_ACTOR)
        actor.send_with_options(args=(delivery_id,), delay=delay_ms or None)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep re-sends
        logger.warning("Could not queue delivery %s; the sweep will send it.", delivery_id)


class _Publisher:
    # A few threads: each publish waits for RabbitMQ's confirm, so one thread would cap the
    # rate at one round trip per message.
    THREADS = 4

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _run(self) -> None:
        while True:
            delivery_id, delay_ms = self._queue.get()
            try:
                deliver_send(delivery_id, delay_ms)
            finally:
                self._queue.task_done()

    def put(self, delivery_id: str, delay_ms: int) -> None:
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            while len(self._threads) < self.THREADS:
                thread = threading.Thread(target=self._run, name="webhooks-publisher", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._queue.put((delivery_id, delay_ms))

    def flush(self) -> None:
        """Waits until every message handed over so far is sent (tests, shutdown)."""
        self._queue.join()


publisher = _Publisher()


def deliver_publish(delivery_id: str, delay_ms: int = 0) -> None:
    """Called on commit: hands the message to the background publisher, or sends it at once
    when WEBHOOKS_PUBLISH_IN_BACKGROUND is off (tests that drain the queues right away)."""
    if settings.WEBHOOKS_PUBLISH_IN_BACKGROUND:
        publisher.put(delivery_id, delay_ms)
    else:
        deliver_send(delivery_id, delay_ms)
