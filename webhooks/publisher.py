"""Hands webhook messages to the broker from a background thread of the process, so the
request that committed the change does not wait on RabbitMQ (PRODUCT.md: producing events adds
no network call to any request). The delivery rows are committed first; a message this thread
never sent (the process died) is sent by the sweep once it is overdue.

Two messages: `webhook_event_job` (new events: its worker attempts all of their deliveries) and
`webhook_deliver_job` (one delivery: retries, resends and the sweep). New events are gathered
for up to WEBHOOKS_PUBLISH_LINGER_SECONDS, at most WEBHOOKS_POST_THREADS deliveries' worth, into
one message: under load a request process publishes a message per several events, not one per
delivery, and a worker claims and records their deliveries in one transaction each."""

import logging
import queue
import threading
import time

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)

DELIVER_ACTOR = "webhook_deliver_job"
EVENT_ACTOR = "webhook_event_job"


def job_publish_now(actor_name: str, argument, delay_ms: int = 0) -> None:
    """Sends one message now. A broker that is down is logged: the sweep re-sends."""
    try:
        actor = dramatiq.get_broker().get_actor(actor_name)
        actor.send_with_options(args=(argument,), delay=delay_ms or None)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep re-sends
        logger.warning("Could not queue %s(%s); the sweep will send it.", actor_name, argument)


def deliver_send(delivery_id: str, delay_ms: int = 0) -> None:
    """Sends one delivery's message now."""
    job_publish_now(DELIVER_ACTOR, delivery_id, delay_ms)


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
            actor_name, object_id, delay_ms = self._queue.get()
            try:
                job_publish_now(actor_name, object_id, delay_ms)
            finally:
                self._queue.task_done()

    def put(self, actor_name: str, object_id: str, delay_ms: int) -> None:
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            while len(self._threads) < self.THREADS:
                thread = threading.Thread(target=self._run, name="webhooks-publisher", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._queue.put((actor_name, object_id, delay_ms))

    def flush(self) -> None:
        """Waits until every message handed over so far is sent (tests, shutdown)."""
        event_batcher.flush()
        self._queue.join()


class _EventBatcher:
    """One thread that sends new events: it takes the first one waiting, gathers those that
    arrive within the linger (at most WEBHOOKS_POST_THREADS deliveries in all; a backlog fills
    a message at once) and sends them as one `webhook_event_job` message."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while True:
            event_id, deliveries = self._queue.get()
            batch, count = [event_id], deliveries
            deadline = time.monotonic() + settings.WEBHOOKS_PUBLISH_LINGER_SECONDS
            try:
                while count < settings.WEBHOOKS_POST_THREADS:
                    try:
                        event_id, deliveries = self._queue.get(
                            timeout=max(0.0, deadline - time.monotonic())
                        )
                    except queue.Empty:
                        break
                    batch.append(event_id)
                    count += deliveries
                job_publish_now(EVENT_ACTOR, batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def put(self, event_id: str, deliveries: int) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="webhooks-event-publisher", daemon=True
                )
                self._thread.start()
        self._queue.put((event_id, deliveries))

    def flush(self) -> None:
        self._queue.join()


publisher = _Publisher()
event_batcher = _EventBatcher()


def job_publish(actor_name: str, object_id: str, delay_ms: int = 0) -> None:
    """Called on commit: hands the message to the background publisher, or sends it at once
    when WEBHOOKS_PUBLISH_IN_BACKGROUND is off (tests that drain the queues right away)."""
    if settings.WEBHOOKS_PUBLISH_IN_BACKGROUND:
        publisher.put(actor_name, object_id, delay_ms)
    else:
        job_publish_now(actor_name, object_id, delay_ms)


def deliver_publish(delivery_id: str, delay_ms: int = 0) -> None:
    """One delivery's message, on commit."""
    job_publish(DELIVER_ACTOR, delivery_id, delay_ms)


def event_publish(event_id: str, deliveries: int) -> None:
    """Called on commit for a new event with `deliveries` deliveries: its message (gathered
    with other events' in the background, or sent at once as above)."""
    if settings.WEBHOOKS_PUBLISH_IN_BACKGROUND:
        event_batcher.put(event_id, deliveries)
    else:
        job_publish_now(EVENT_ACTOR, [event_id])
