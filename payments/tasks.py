"""Dramatiq actors of the payments app. Thin: each calls one service, which locks its row and
re-checks state, so any message may be delivered more than once."""

import dramatiq
from django.conf import settings

from articurated.jobs import RETRY_BACKOFF, AttemptFailed
from payments import services


@dramatiq.actor(
    actor_name="refund_process_job",
    queue_name=settings.JOBS_QUEUES["refunds"],
    max_retries=settings.REFUND_MAX_RETRIES,
    time_limit=settings.JOBS_TIME_LIMIT_MS["refunds"],
    **RETRY_BACKOFF,
)
def refund_process_job(refund_id: str) -> None:
    try:
        services.refund_process(refund_id=refund_id)
    except AttemptFailed as exc:
        # The delay the service computed (and stored as the refund's next_attempt_at).
        raise dramatiq.Retry(str(exc), delay=exc.delay_ms) from exc


@dramatiq.actor(
    actor_name="refund_customer_email_job",
    queue_name=settings.JOBS_QUEUES["email"],
    max_retries=settings.EMAIL_MAX_RETRIES,
    time_limit=settings.JOBS_TIME_LIMIT_MS["email"],
    **RETRY_BACKOFF,
)
def refund_customer_email_job(refund_id: str) -> None:
    services.refund_customer_email_send(refund_id=refund_id)


@dramatiq.actor(
    actor_name="refund_failure_alert_job",
    queue_name=settings.JOBS_QUEUES["email"],
    max_retries=settings.EMAIL_MAX_RETRIES,
    time_limit=settings.JOBS_TIME_LIMIT_MS["email"],
    **RETRY_BACKOFF,
)
def refund_failure_alert_job(refund_id: str) -> None:
    services.refund_failure_alert_send(refund_id=refund_id)


@dramatiq.actor(
    actor_name="refunds_sweep",
    queue_name=settings.JOBS_QUEUES["refunds"],
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["sweep"],
)
def refunds_sweep(grace_seconds: float | None = None) -> None:
    services.refund_sweep(grace_seconds=grace_seconds)
