"""Django's database health check without a round trip of its own.

With CONN_HEALTH_CHECKS, Django's start-of-request step (`close_old_connections()`) closes a
connection that broke or outlived CONN_MAX_AGE and marks the others for a health check before
their next use: a `SELECT 1`, one more round trip on every request (for GET /orders/{id} one
in three, for CreatePayment one in three), gRPC call and job.

`idle_and_quiet()` answers that check locally where it can (the project's PostgreSQL backend,
articurated/db_backends/postgresql, asks it first): a connection that is idle, not in error,
and whose socket has nothing to read passes. A server that closed or terminated the
connection while it sat idle (a restart, pg_terminate_backend, an idle timeout) has left it
readable (a FATAL message, then end of file), so such a connection still gets Django's
`SELECT 1`, fails it and is replaced before the first statement. Like the `SELECT 1`, this
cannot tell a peer that vanished without a word; there the first statement fails (the client
retries, with the same idempotency key for a write)."""

import select


def idle_and_quiet(raw) -> bool:
    """A psycopg connection with no transaction open and nothing waiting on its socket."""
    from psycopg import pq

    if raw.closed or raw.pgconn.status != pq.ConnStatus.OK:
        return False
    if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    readable, _, _ = select.select([raw.fileno()], [], [], 0)
    return not readable
