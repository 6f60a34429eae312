"""Django's database health check without a round trip of its own, for web requests and gRPC
calls alike.

With CONN_HEALTH_CHECKS, Django's start-of-request step (`close_old_connections()`, on
`request_started`) closes a connection that broke or outlived CONN_MAX_AGE and marks the
others for a health check before their next use: a `SELECT 1`, one more round trip on every
request (for GET /orders/{id} one in three, for CreatePayment one in three).

`connections_check_before_use()` answers that check locally where it can, just before the
request may use the connection: a PostgreSQL connection that is idle, not in error, and whose
socket has nothing to read passes. A server that closed or terminated the connection while it
sat idle (a restart, pg_terminate_backend, an idle timeout) has left it readable (a FATAL
message, then end of file), so such a connection still gets Django's `SELECT 1`, fails it and
is replaced before the request's first statement. Like the `SELECT 1`, this cannot tell a peer
that vanished without a word; there the first statement fails (the client retries, with the
same idempotency key for a write).

Web requests: connected to `request_started` after Django's own receiver (articurated/apps.py).
gRPC calls: the interceptor calls it before each call (payment_service/transport)."""

import select

from django.db import close_old_connections, connections


def _idle_and_quiet(raw) -> bool:
    """A psycopg connection with no transaction open and nothing waiting on its socket."""
    from psycopg import pq

    if raw.closed or raw.pgconn.status != pq.ConnStatus.OK:
        return False
    if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    readable, _, _ = select.select([raw.fileno()], [], [], 0)
    return not readable


def connections_check_before_use(**kwargs) -> None:
    """Marks the thread's PostgreSQL connections healthy when their socket says so; the
    others keep Django's health check (a `SELECT 1` before their first use). A
    `request_started` receiver (hence **kwargs) and a plain call."""
    for connection in connections.all(initialized_only=True):
        if (
            connection.vendor == "postgresql"
            and connection.connection is not None
            and connection.health_check_enabled
            and not connection.health_check_done
            and not connection.errors_occurred
            and _idle_and_quiet(connection.connection)
        ):
            connection.health_check_done = True


def connections_close_after_use() -> None:
    """Closes the thread's connections that broke or outlived CONN_MAX_AGE (Django's
    end-of-request step); the survivors are checked again before the next use."""
    close_old_connections()
