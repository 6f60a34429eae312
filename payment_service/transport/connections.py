"""Django's database connections around a gRPC call, without a round trip of their own.

grpcio runs each call on a thread of the server's pool, and Django keeps one connection per
thread. After each call, `close_old_connections()` (Django's end-of-request step) closes a
connection that broke or outlived CONN_MAX_AGE and, with CONN_HEALTH_CHECKS, marks the others
for a health check before their next use: Django's is a `SELECT 1`, one more round trip on
every call (for CreatePayment a third beside its two statements).

`connections_check_before_call()` answers that check locally where it can, just before the
call may use the connection: a PostgreSQL connection that is idle, not in error, and whose
socket has nothing to read passes. A server that closed or terminated the connection while it
sat idle (a restart, pg_terminate_backend, an idle timeout) has left it readable (a FATAL
message, then end of file), so such a connection still gets Django's `SELECT 1`, fails it and
is replaced before the call's first statement. Like the `SELECT 1` under a deadline, this
cannot tell a peer that vanished without a word; there the call's first statement fails and
the caller retries with the same idempotency key."""

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


def connections_check_before_call() -> None:
    """Marks the thread's PostgreSQL connections healthy when their socket says so; the
    others keep Django's health check (a `SELECT 1` before their first use)."""
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


def connections_close_after_call() -> None:
    """Closes the thread's connections that broke or outlived CONN_MAX_AGE (Django's
    end-of-request step); the survivors are checked again before the next call."""
    close_old_connections()
