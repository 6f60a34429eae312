"""Dramatiq actors of the invoicing app. Thin: each calls one service, which locks its row and
re-checks state, so any message may be delivered more than once."""

import dramatiq
from django.conf import settings

from articurated.jobs import RETRY_BACKOFF, AttemptFailed
from invoicing import services


@dramatiq.actor(
    actor_name="invoice_generate_job",
    queue_name=settings.JOBS_QUEUES["invoices"],
    max_retries=settings.INVOICE_MAX_RETRIES,
    time_limit=settings.JOBS_TIME_LIMIT_MS["invoices"],
    **RETRY_BACKOFF,
)
def invoice_generate_job(invoice_id: str) -> None:
    try:
        services.invoice_generate(invoice_id=invoice_id)
    except AttemptFailed as exc:
        # The delay the service computed (and stored as the invoice's next_attempt_at).
        raise dramatiq.Retry(str(exc), delay=exc.delay_ms) from exc


@dramatiq.actor(
    actor_name="invoice_email_send_job",
    queue_name=settings.JOBS_QUEUES["email"],
    max_retries=settings.EMAIL_MAX_RETRIES,
    time_limit=settings.JOBS_TIME_LIMIT_MS["email"],
    **RETRY_BACKOFF,
)
def invoice_email_send_job(invoice_id: str) -> None:
    services.invoice_email_send(invoice_id=invoice_id)


@dramatiq.actor(
    actor_name="invoices_sweep",
    queue_name=settings.JOBS_QUEUES["invoices"],
    max_retries=0,
    time_limit=settings.JOBS_TIME_LIMIT_MS["sweep"],
)
def invoices_sweep(grace_seconds: float | None = None) -> None:
    services.invoice_sweep(grace_seconds=grace_seconds)
