"""How background jobs run besides the actors themselves: the worker embedded in the web process
when no broker is configured, and the scheduler that sends the sweep actors every minute.

Generic: it imports only Django and Dramatiq and finds the sweep actors by name in
settings.JOBS_SWEEPS, so this bottom layer depends on no domain app.
"""

import atexit
import fcntl
import functools
import hashlib
import logging
import os
import random
import threading
from pathlib import Path

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


def job_message_id(*parts) -> str:
    """A Message-ID derived from what the e-mail is about (e.g. "invoice", invoice.pk), so a
    message sent again after a crash is the same message and receiving servers drop the
    duplicate. The domain is DEFAULT_FROM_EMAIL's."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">").strip() or "articurated"
    return f"<{'.'.join(str(part) for part in parts)}@{domain}>"


def job_send(actor_name: str, *args) -> None:
    """Sends one message. A broker that is down must not fail the request that committed the
    work: the row that asks for it stays due, and the sweep sends it again."""
    if _embedded_follower:
        # No broker and another process runs the embedded worker: a message put on this
        # process's in-memory queue would never be read. The row that asks for the work is
        # committed; that process's sweep sends it.
        logger.debug("Not queuing %s%r here; the embedded worker's sweep will.", actor_name, args)
        return
    if _embedded_worker is not None and not _embedded_inflight_claim(actor_name, args):
        # The embedded worker's sweep runs often, with a short grace: work it already holds
        # in its in-memory queue (or is running) must not be queued a second time.
        logger.debug("%s%r is already queued in this process.", actor_name, args)
        return
    try:
        dramatiq.get_broker().get_actor(actor_name).send(*args)
    except Exception:  # any broker failure: the sweep re-sends
        _embedded_inflight_release(actor_name, args)
        logger.warning(
            "Could not queue %s%r; the sweep will send it again.", actor_name, args, exc_info=True
        )


def job_send_on_commit(actor_name: str, *args) -> None:
    """Queues the message once the current transaction commits (arguments bound by value)."""
    transaction.on_commit(functools.partial(job_send, actor_name, *args))


_embedded_lock = threading.Lock()
_embedded_worker: dramatiq.Worker | None = None
_embedded_follower = False
_embedded_lock_fd: int | None = None


_embedded_inflight: set[tuple] = set()
_embedded_inflight_lock = threading.Lock()


def _embedded_inflight_claim(actor_name: str, args) -> bool:
    key = (actor_name, tuple(args))
    with _embedded_inflight_lock:
        if key in _embedded_inflight:
            return False
        _embedded_inflight.add(key)
        return True


def _embedded_inflight_release(actor_name: str, args) -> None:
    with _embedded_inflight_lock:
        _embedded_inflight.discard((actor_name, tuple(args)))


class EmbeddedInflight(dramatiq.Middleware):
    """Forgets a message of the embedded worker once it was processed (or skipped), so that
    the next send of the same work is queued again."""

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        _embedded_inflight_release(message.actor_name, message.args)

    def after_skip_message(self, broker, message) -> None:
        _embedded_inflight_release(message.actor_name, message.args)


def embedded_lock_path() -> Path:
    """One lock file per database: the processes serving one database elect one worker."""
    db = settings.DATABASES["default"]
    identity = "|".join(str(db.get(key) or "") for key in ("ENGINE", "HOST", "PORT", "NAME"))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(settings.JOBS_EMBEDDED_LOCK_DIR) / f"embedded-worker-{digest}.lock"


def embedded_lock_try_acquire() -> bool:
    """An exclusive, non-blocking flock on the database's lock file, held while the process
    lives. Why a file lock rather than a PostgreSQL advisory lock: the embedded worker's queue
    is in the memory of one process, so it only makes sense among processes of one machine,
    where a file lock works for SQLite and PostgreSQL alike, pins no database connection, and
    is released by the kernel the moment its holder dies (no stale lock to clean up)."""
    global _embedded_lock_fd
    if _embedded_lock_fd is not None:
        return True
    path = embedded_lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _embedded_lock_fd = fd
    return True


def embedded_worker_start() -> dramatiq.Worker | None:
    """Starts the embedded Dramatiq worker (in threads of this process, on the in-memory
    broker) if this process wins the database's lock file; otherwise this process only serves
    and keeps trying every JOBS_EMBEDDED_LOCK_RETRY_SECONDS, so that when the worker's process
    dies another takes over. Exactly one process per database runs the worker and its sweep,
    whose first round re-sends, at once, the work left PENDING (by a dead process, or queued
    by none because it arrived at a process that does not run the worker)."""
    global _embedded_worker, _embedded_follower
    with _embedded_lock:
        if _embedded_worker is not None:
            return _embedded_worker
        if not embedded_lock_try_acquire():
            if not _embedded_follower:
                _embedded_follower = True
                threading.Thread(
                    target=_embedded_takeover, name="jobs-embedded-takeover", daemon=True
                ).start()
                logger.info("Embedded job worker runs in another process; this one only serves.")
            return None
        broker = dramatiq.get_broker()
        broker.add_middleware(EmbeddedInflight())
        worker = dramatiq.Worker(broker, worker_threads=settings.DRAMATIQ_EMBEDDED_THREADS)
        worker.start()
        atexit.register(worker.stop, timeout=5_000)
        _embedded_worker = worker
        _embedded_follower = False
        logger.info(
            "Embedded job worker started in process %s (no BROKER_URL: jobs run in-process).",
            os.getpid(),
        )
        return _embedded_worker


def _embedded_takeover() -> None:
    stop = threading.Event()
    while _embedded_worker is None:
        if stop.wait(settings.JOBS_EMBEDDED_LOCK_RETRY_SECONDS * random.uniform(0.8, 1.2)):
            return
        embedded_worker_start()


def embedded_worker_on_request_started(sender, **kwargs) -> None:
    # The first request proves this is a serving process (not the autoreloader's parent, not a
    # management command), so the worker starts here rather than in AppConfig.ready().
    if _embedded_worker is None and not _embedded_follower:
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
        # The embedded worker also picks up what other serving processes did not queue (see
        # job_send): it sweeps more often, for work overdue by a shorter grace.
        grace = settings.JOBS_EMBEDDED_SWEEP_GRACE_SECONDS if embedded else None
        if embedded:
            interval = min(interval, settings.JOBS_EMBEDDED_SWEEP_INTERVAL_SECONDS)
        thread = threading.Thread(
            target=self._run,
            kwargs={"interval": interval, "first_grace": 0 if embedded else None, "grace": grace},
            name="jobs-sweep-scheduler",
            daemon=True,
        )
        thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _run(self, *, interval: float, first_grace: float | None, grace: float | None) -> None:
        # A few seconds in, then every interval with jitter, so processes do not sweep in step.
        if self._stop.wait(random.uniform(2, 5)):
            return
        sweep_send(grace_seconds=first_grace)
        while not self._stop.wait(interval * random.uniform(0.9, 1.1)):
            sweep_send(grace_seconds=grace)
