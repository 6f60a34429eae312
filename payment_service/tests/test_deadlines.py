"""The caller's deadline as PostgreSQL's statement limit (services._statement_timeout_ms)."""

import pytest

from conftest import requires_postgres
from payment_service.services import _statement_timeout_ms

pytestmark = [pytest.mark.django_db, requires_postgres()]


@pytest.mark.parametrize(
    ("left", "connection_limit", "expected"),
    [
        (2.5, 5, 2500),  # shorter than the connection's limit: the deadline bounds it
        (9.0, 5, None),  # the connection's 5 s limit ends it first; not loosened to 9 s
        (9.0, 0, 9000),  # no limit on the connection: the deadline is the only one
        (10**6, 0, None),  # grpcio's "no deadline"
        (None, 5, None),
    ],
)
def test_the_statement_limit_is_the_shorter_of_deadline_and_connection_limit(
    settings, left, connection_limit, expected
):
    settings.DATABASE_STATEMENT_TIMEOUT = connection_limit
    time_remaining = None if left is None else (lambda: left)
    assert _statement_timeout_ms(time_remaining) == expected
