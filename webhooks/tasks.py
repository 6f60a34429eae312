"""Dramatiq actors of the webhooks app. Thin: each calls one service, which locks its row and
re-checks state, so any message may be delivered more than once."""

import dramatiq
from django.conf import settings

from articurated.jobs import RETRY_BACKOFF
from webhooks import services


@dramatiq.actor(
    actor_name="webhook_deliver_job",
    queue_name=settings.JOBS_QUEUES["webhooks"],
    # Failures of the endpoint are retried by the service on the webhook schedule; these are
    # for our own (database down): the sweep is the backstop.
    max_retries=3,
    time_limit=int(services.attempt_lease_seconds() * 1000),
    **RETRY_BACKOFF,
)
def webhook_deliver_job(delivery_id: str) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@dramatiq.actor(
    actor_name="webhook_event_job",
    queue_name=settings.JOBS_QUEUES["webhooks"],
    # As above. Its deliveries' POSTs run side by side (at most WEBHOOKS_POST_THREADS of them),
    # so one attempt's lease covers them.
    max_retries=3,
    time_limit=int(services.attempt_lease_seconds() * 1000),
    **RETRY_BACKOFF,
)
def webhook_event_job(event_ids: list[str]) -> None:
    services.events_deliver(event_ids=event_ids)


@dramatiq.actor(
    actor_name="webhooks_sweep",
    queue_name=settings.JOBS_QUEUES["webhooks"],
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["sweep"],
)
def webhooks_sweep(grace_seconds: float | None = None) -> None:
    services.delivery_sweep(grace_seconds=grace_seconds)


@dramatiq.actor(
    actor_name="webhooks_prune",
    queue_name=settings.JOBS_QUEUES["webhooks"],
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["sweep"],
)
def webhooks_prune(grace_seconds: float | None = None) -> None:
    services.event_prune(grace_seconds=grace_seconds)
