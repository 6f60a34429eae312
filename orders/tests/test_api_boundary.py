"""What every response under /api/ shares (API.md "General", "Errors"; issue 8): streamed bodies
are counted while read (413 past the limit), errors are the JSON error body whoever raised them
(schema, docs, a wrong Host), and X-Request-ID is the client's when it is sane."""

import http.client
import io
import json
import uuid

import pytest
from django.test import override_settings

from audit.models import AuditRecord
from conftest import ORDER_PAYLOAD
from orders.tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def _chunked(body: bytes, size: int = 64 * 1024):
    for start in range(0, len(body), size):
        yield body[start : start + size]


# --- streamed bodies --------------------------------------------------------------------------


def test_a_streamed_body_over_the_limit_is_413_on_a_real_server(live_server, api):
    # given a 5 MB JSON body sent chunked, without Content-Length
    body = json.dumps({**ORDER_PAYLOAD, "notes": "x" * (5 * 1024 * 1024)}).encode()
    token = api["Integrator"]._credentials["HTTP_AUTHORIZATION"]
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    # when
    try:
        connection.request(
            "POST",
            "/api/v1/orders",
            body=_chunked(body),
            headers={"Content-Type": "application/json", "Authorization": token},
            encode_chunked=True,
        )
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the client finished sending: expected
    response = connection.getresponse()

    # then
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "REQUEST_TOO_LARGE"
    connection.close()


def test_a_small_streamed_body_is_read_on_a_real_server(live_server, api):
    # given a normal order sent chunked
    body = json.dumps(ORDER_PAYLOAD).encode()
    token = api["Integrator"]._credentials["HTTP_AUTHORIZATION"]
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    # when
    connection.request(
        "POST",
        "/api/v1/orders",
        body=_chunked(body, 100),
        headers={"Content-Type": "application/json", "Authorization": token},
        encode_chunked=True,
    )
    response = connection.getresponse()

    # then
    assert response.status == 201, response.read()
    assert json.loads(response.read())["customer"]["email"] == "ada@example.com"
    connection.close()


@pytest.mark.parametrize(("size", "status"), [(2 * 1024 * 1024, 413), (1024, 201)])
def test_a_decoded_stream_is_counted_too(api, size, status):
    """Behind gunicorn, which decodes chunked bodies itself (wsgi.input_terminated)."""
    # given
    body = json.dumps({**ORDER_PAYLOAD, "notes": "x" * size}).encode()
    if status == 201:
        body = json.dumps({**ORDER_PAYLOAD, "notes": "short"}).encode()

    # when
    response = api["Integrator"].generic(
        "POST",
        "/api/v1/orders",
        content_type="application/json",
        **{
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "CONTENT_LENGTH": "",
            "HTTP_TRANSFER_ENCODING": "chunked",
        },
    )

    # then
    assert response.status_code == status, response.content
    if status == 413:
        assert_error(response, 413, "REQUEST_TOO_LARGE")


# --- JSON error body everywhere under /api/ ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/schema", "/api/v1/docs", "/api/v1/schema?format=json"])
def test_schema_and_docs_with_a_bad_token_answer_the_json_error(client, path):
    # when
    response = client.get(path, HTTP_AUTHORIZATION="Token not-a-real-token")

    # then
    assert_error(response, 401, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize("path", ["/api/v1/schema", "/api/v1/docs"])
def test_schema_and_docs_still_serve_anonymous_readers(client, path):
    # when
    response = client.get(path)

    # then
    assert response.status_code == 200


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/health", "/api/v1/schema"])
def test_a_wrong_host_is_the_json_error_body(client, path, debug):
    # when
    with override_settings(DEBUG=debug):
        response = client.get(path, HTTP_HOST="evil.example")

    # then
    error = assert_error(response, 400, "BAD_REQUEST")
    assert "evil.example" not in error["message"]


def test_a_wrong_host_outside_the_api_is_not_json(client):
    # when
    with override_settings(DEBUG=False):
        response = client.get("/admin/", HTTP_HOST="evil.example")

    # then
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_an_invoice_with_an_empty_format_is_refused(api, make_order):
    # given a shipped order (its invoice is not generated: no worker ran)
    order = make_order("SHIPPED")

    # when
    response = api["Manager"].get(f"/api/v1/orders/{order.pk}/invoice?format=")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["format"]


# --- X-Request-ID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    ["abc\n", "a" * 129, "", "has space", "semi;colon", "é"],
    ids=["trailing-newline", "129-chars", "empty", "space", "semicolon", "non-ascii"],
)
def test_an_unacceptable_request_id_is_replaced(client, sent):
    # when
    response = client.get("/api/v1/health", HTTP_X_REQUEST_ID=sent)

    # then
    assert response["X-Request-ID"] != sent
    uuid.UUID(response["X-Request-ID"])


@pytest.mark.parametrize("sent", ["a", "a" * 128, "req-1.2:3_Z"])
def test_an_acceptable_request_id_is_echoed_and_stored_on_audit_records(api, sent):
    # when
    response = api["Integrator"].post(
        "/api/v1/orders", ORDER_PAYLOAD, format="json", HTTP_X_REQUEST_ID=sent
    )

    # then
    assert response.status_code == 201
    assert response["X-Request-ID"] == sent
    assert AuditRecord.objects.get(entity_id=response.json()["id"]).request_id == sent
