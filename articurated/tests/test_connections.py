"""Kept database connections between web requests: checked from their socket, not by a
`SELECT 1` before every request, and replaced when the server dropped them meanwhile."""

import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from conftest import requires_postgres

pytestmark = [requires_postgres(), pytest.mark.django_db(transaction=True)]


def _serve(path: str, token: str) -> int:
    """One request through Django's WSGI handler as a server runs it: `request_started` and
    `request_finished` fire with their receivers (the test client disconnects Django's)."""
    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=token, HTTP_HOST="127.0.0.1").environ
    statuses = []
    response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


@pytest.fixture
def token(api):
    return api["Integrator"]._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def sent(monkeypatch):
    queries = []
    execute = psycopg.Cursor.execute  # Django's client-side cursors inherit it too

    def counting(cursor, query, *args, **kwargs):
        queries.append(str(query).strip().upper())
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    return queries


def test_requests_on_a_kept_connection_send_no_health_check_query(token, sent):
    # given a connection kept from an earlier request
    assert _serve("/api/v1/orders", token) == 200
    kept = connection.connection
    sent.clear()

    # when more requests come
    statuses = [_serve("/api/v1/orders", token) for _ in range(3)]

    # then they are answered on the same connection, and none began with a SELECT 1
    assert statuses == [200, 200, 200]
    assert connection.connection is kept
    assert sent and "SELECT 1" not in sent


def test_a_request_after_the_database_dropped_the_connection_gets_a_new_one(token, sent):
    # given a kept connection that the database then terminates (a restart, an idle timeout)
    assert _serve("/api/v1/orders", token) == 200
    dropped = connection.connection.info.backend_pid
    url = connection.connection.info.dsn
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dropped])
        deadline = time.monotonic() + 10  # the backend says goodbye and exits on its own time
        while time.monotonic() < deadline:
            gone = other.execute("SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)",
                                 [dropped]).fetchone()[0]  # fmt: skip
            if gone:
                break
            time.sleep(0.02)
    sent.clear()

    # when the next request comes
    status = _serve("/api/v1/orders", token)

    # then it is answered on a new connection: the socket told, Django's SELECT 1 confirmed
    assert status == 200
    assert connection.connection.info.backend_pid != dropped
    assert sent[0] == "SELECT 1"
