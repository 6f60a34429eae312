"""Django's PostgreSQL backend, with its health check answered from the socket where it can
(articurated/connections.py): a kept connection gets Django's `SELECT 1` only when the server
has written to it meanwhile (closed it), not before every request, gRPC call or job.

The settings select it for every PostgreSQL DATABASE_URL; everything else is Django's."""

from django.db.backends.postgresql import base

from articurated.connections import idle_and_quiet


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Django calls this before each cursor; its check runs once per request (or job).
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.errors_occurred
            and idle_and_quiet(self.connection)
        ):
            self.health_check_done = True
        super().close_if_health_check_failed()
