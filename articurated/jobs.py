"""How background jobs run besides the actors themselves: the worker embedded in the web process
when no broker is configured, and the scheduler that sends the sweep actors every minute.

Generic: it imports only Django and Dramatiq and finds the sweep actors by name in
settings.JOBS_SWEEPS, so this bottom layer depends on no domain app.
"""

import atexit
import functools
import logging
import random
import threading

import dramatiq
from django.conf import settings
from django.db import transaction
from dramatiq.common import compute_backoff

logger = logging.getLogger(__name__)

# Retry backoff of every job actor (dramatiq's own, for failures the services do not handle).
RETRY_BACKOFF = {
    "min_backoff": settings.JOBS_RETRY_MIN_BACKOFF_MS,
    "max_backoff": settings.JOBS_RETRY_MAX_BACKOFF_MS,
}


class AttemptFailed(Exception):
    """A job's attempt failed and another is due in `delay_ms`; the actor turns it into a
    dramatiq.Retry with that delay (the same one the service stored on its row)."""

    def __init__(self, message: str, *, delay_ms: int) -> None:
        super().__init__(message)
        self.delay_ms = delay_ms


def job_retry_delay_ms(*, failed_attempts: int) -> int:
    """Exponential backoff before the next attempt, after `failed_attempts` failures."""
    _, delay_ms = compute_backoff(
        max(failed_attempts - 1, 0),
        factor=settings.JOBS_RETRY_MIN_BACKOFF_MS,
        max_backoff=settings.JOBS_RETRY_MAX_BACKOFF_MS,
    )
    return delay_ms


def job_error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def job_send(actor_name: str, *args) -> None:
    """Sends one message. A broker that is down must not fail the request that committed the
    work: the row that asks for it stays due, and the sweep sends it again."""
    try:
        dramatiq.get_broker().get_actor(actor_name).send(*args)
    except Exception:  # any broker failure: the sweep re-sends
        logger.warning(
            "Could not queue %s%r; the sweep will send it again.", actor_name, args, exc_info=True
        )


def job_send_on_commit(actor_name: str, *args) -> None:
    """Queues the message once the current transaction commits (arguments bound by value)."""
    transaction.on_commit(functools.partial(job_send, actor_name, *args))


_embedded_lock = threading.Lock()
_embedded_worker: dramatiq.Worker | None = None


def embedded_worker_start() -> dramatiq.Worker:
    """Starts (once per process) a Dramatiq worker on the in-memory broker, in threads of this
    process. Used when no BROKER_URL is set; its SweepScheduler re-sends, at once, work that a
    previous process left PENDING (the in-memory queue died with it)."""
    global _embedded_worker
    with _embedded_lock:
        if _embedded_worker is None:
            worker = dramatiq.Worker(
                dramatiq.get_broker(), worker_threads=settings.DRAMATIQ_EMBEDDED_THREADS
            )
            worker.start()
            atexit.register(worker.stop, timeout=5_000)
            _embedded_worker = worker
            logger.info("Embedded job worker started (no BROKER_URL: jobs run in-process).")
        return _embedded_worker


def embedded_worker_on_request_started(sender, **kwargs) -> None:
    # The first request proves this is a serving process (not the autoreloader's parent, not a
    # management command), so the worker starts here rather than in AppConfig.ready().
    if _embedded_worker is None:
        embedded_worker_start()


def sweep_send(*, grace_seconds: float | None = None) -> None:
    """Sends each sweep actor of settings.JOBS_SWEEPS once. A broker that is down is logged;
    the next round tries again."""
    broker = dramatiq.get_broker()
    for name in settings.JOBS_SWEEPS:
        try:
            broker.get_actor(name).send(grace_seconds)
        except Exception:  # any broker failure: log, retry next round
            logger.warning("Could not send the sweep %s; next round retries.", name, exc_info=True)


class SweepScheduler(dramatiq.Middleware):
    """Every JOBS_SWEEP_INTERVAL_SECONDS a worker process sends the sweep actors. Each worker
    process runs one (`rundramatiq --processes N` sends N per interval, which is harmless: a
    sweep claims overdue rows with SKIP LOCKED and moves their due time, so two sweeps never
    re-send the same row). The embedded worker's first round treats all PENDING work as lost."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        interval = settings.JOBS_SWEEP_INTERVAL_SECONDS
        if interval <= 0:
            return
        embedded = not settings.BROKER_URL
        thread = threading.Thread(
            target=self._run,
            kwargs={"interval": interval, "first_grace": 0 if embedded else None},
            name="jobs-sweep-scheduler",
            daemon=True,
        )
        thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _run(self, *, interval: float, first_grace: float | None) -> None:
        # A few seconds in, then every interval with jitter, so processes do not sweep in step.
        if self._stop.wait(random.uniform(2, 5)):
            return
        sweep_send(grace_seconds=first_grace)
        while not self._stop.wait(interval * random.uniform(0.9, 1.1)):
            sweep_send()
