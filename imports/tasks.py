"""Dramatiq actors of the imports app. Thin: each calls one service, which re-checks the
import's state, so any message may be delivered more than once."""

import dramatiq
from django.conf import settings

from imports import services


@dramatiq.actor(
    actor_name="import_process_job",
    queue_name=settings.JOBS_QUEUES["imports"],
    # A failure ends the import FAILED (a manager retries it); the time limit is a last guard
    # above the job's own budget, which re-queues the job well before RabbitMQ's 30-minute
    # consumer timeout would take the message back.
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["imports"],
)
def import_process_job(import_id: str) -> None:
    services.import_process(import_id=import_id)


@dramatiq.actor(
    actor_name="imports_sweep",
    queue_name=settings.JOBS_QUEUES["imports"],
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["sweep"],
)
def imports_sweep(grace_seconds: float | None = None) -> None:
    services.import_sweep(grace_seconds=grace_seconds)
