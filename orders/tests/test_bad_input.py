"""Every kind of bad request (QUALITY.md "Bad input"): each gets the one error body of API.md,
a 4xx (or a generic 500), and writes nothing."""

import copy
import json
from unittest import mock

import pytest
from django.db import connection
from rest_framework.throttling import ScopedRateThrottle

from conftest import ORDER_PAYLOAD
from orders.tests.helpers import assert_error, db_snapshot, state_path

ORDERS = "/api/v1/orders"


def _payload_with(path: str, value) -> dict:
    """ORDER_PAYLOAD with the dotted `path` set to `value` (a missing last key is added)."""
    payload = copy.deepcopy(ORDER_PAYLOAD)
    *parents, last = path.split(".")
    target = payload
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = value
    return payload


def _payload_without(path: str) -> dict:
    payload = copy.deepcopy(ORDER_PAYLOAD)
    *parents, last = path.split(".")
    target = payload
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    return payload


BAD_VALUES = [
    # (dotted path, value sent, dotted path named in details)
    ("items.0.quantity", "abc", "items.0.quantity"),
    ("items.0.quantity", -1, "items.0.quantity"),
    ("items.0.quantity", 0, "items.0.quantity"),
    ("items.0.quantity", 10001, "items.0.quantity"),
    ("items.0.quantity", 1.5, "items.0.quantity"),
    ("items.0.quantity", 10**30, "items.0.quantity"),
    ("items.0.quantity", None, "items.0.quantity"),
    ("items.0.unit_price", 1e30, "items.0.unit_price"),
    ("items.0.unit_price", "1e30", "items.0.unit_price"),
    ("items.0.unit_price", "1000000.01", "items.0.unit_price"),
    ("items.0.unit_price", "1.005", "items.0.unit_price"),
    ("items.0.unit_price", "-0.01", "items.0.unit_price"),
    ("items.0.unit_price", "NaN", "items.0.unit_price"),
    ("items.0.unit_price", "Infinity", "items.0.unit_price"),
    ("items.0.unit_price", "ten", "items.0.unit_price"),
    ("items.0.unit_price", [], "items.0.unit_price"),
    ("items.0.sku", "", "items.0.sku"),
    ("items.0.sku", "S" * 65, "items.0.sku"),
    ("items.0.colour", "blue", "items.0.colour"),
    ("items", "VASE-01", "items"),
    ("items", {"sku": "VASE-01"}, "items"),
    ("items", [], "items"),
    ("items", None, "items"),
    ("items", ["VASE-01"], "items.0"),
    ("customer", "ada@example.com", "customer"),
    ("customer", None, "customer"),
    ("customer.email", "not-an-email", "customer.email"),
    ("customer.email", "ada@", "customer.email"),
    ("customer.name", "", "customer.name"),
    ("customer.vip", True, "customer.vip"),
    ("shipping_address.country", "XX", "shipping_address.country"),
    ("shipping_address.country", "GBR", "shipping_address.country"),
    ("shipping_address.country", 44, "shipping_address.country"),
    ("shipping_address.city", "", "shipping_address.city"),
    ("shipping_address.floor", "3", "shipping_address.floor"),
    ("shipping_address", "12 St James's Sq", "shipping_address"),
    ("billing_address", {"name": "Ada"}, "billing_address.line1"),
    ("currency", "ABC", "currency"),
    ("currency", "DOLLARS", "currency"),
    ("currency", "", "currency"),
    ("shipping_amount", "-5.00", "shipping_amount"),
    ("shipping_amount", "5.001", "shipping_amount"),
    ("tax_amount", 1e30, "tax_amount"),
    ("notes", "n" * 2001, "notes"),
    ("notes", {"text": "gift"}, "notes"),
    ("coupon", "FREE", "coupon"),
    ("status", "PAID", "status"),
    ("total_amount", "0.01", "total_amount"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [pytest.param(*case, id=f"{case[0]}={json.dumps(case[1])[:20]}") for case in BAD_VALUES],
)
def test_bad_field_value_is_a_validation_error_naming_the_field(api, db, path, value, named):
    # given
    payload = _payload_with(path, value)
    before = db_snapshot()

    # when
    response = api["Integrator"].post(ORDERS, payload, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert named in error["details"], error["details"]
    assert all(isinstance(m, str) and m for m in error["details"][named])
    assert named in error["message"]
    assert db_snapshot() == before


def test_bad_billing_country_is_named_with_its_dotted_path(api, db):
    # given
    billing = {**ORDER_PAYLOAD["shipping_address"], "country": "ZZ"}
    before = db_snapshot()

    # when
    response = api["Integrator"].post(
        ORDERS, {**ORDER_PAYLOAD, "billing_address": billing}, format="json"
    )

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["billing_address.country"]
    assert db_snapshot() == before


def test_an_error_in_the_third_item_names_that_item(api, db):
    # given
    items = [dict(ORDER_PAYLOAD["items"][0]) for _ in range(3)]
    items[2]["quantity"] = 0

    # when
    response = api["Integrator"].post(ORDERS, {**ORDER_PAYLOAD, "items": items}, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["items.2.quantity"]


def test_several_bad_fields_are_all_named(api, db):
    # given
    payload = _payload_with("customer.email", "nope")
    payload["items"][0]["quantity"] = -3
    payload["shipping_address"]["country"] = "XX"

    # when
    response = api["Integrator"].post(ORDERS, payload, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {
        "customer.email",
        "items.0.quantity",
        "shipping_address.country",
    }


@pytest.mark.parametrize(
    "path",
    [
        "customer",
        "customer.email",
        "customer.name",
        "shipping_address",
        "shipping_address.line1",
        "shipping_address.country",
        "items",
        "items.0.sku",
        "items.0.quantity",
    ],
)
def test_missing_required_field_is_named(api, db, path):
    # given
    before = db_snapshot()

    # when
    response = api["Integrator"].post(ORDERS, _payload_without(path), format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert path in error["details"]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        '{"customer": }',
        "{'single': 'quotes'}",
        '{"items": [1, 2,]}',
        '{"a": NaN}',
        '{"a": Infinity}',
        "",
        "\xff\xfe",
        "[]",
        '"just a string"',
        "42",
        "null",
        "[" * 100_000,
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=[
        "unclosed",
        "missing-value",
        "single-quotes",
        "trailing-comma",
        "nan",
        "infinity",
        "empty",
        "not-utf8",
        "array",
        "string",
        "number",
        "null",
        "deeply-nested-array",
        "deeply-nested-object",
    ],
)
@pytest.mark.parametrize("where", ["create", "state", "token"])
def test_malformed_json_is_a_parse_error(api, make_order, raw, where):
    # given
    order = make_order()
    path = {"create": ORDERS, "state": state_path(order.pk), "token": "/api/v1/auth/token"}[where]
    before = db_snapshot()

    # when
    response = api["admin"].post(path, raw.encode("latin-1"), content_type="application/json")

    # then
    if raw == "":
        # An empty body is an empty object: the required fields are missing.
        assert_error(response, 400, "VALIDATION_ERROR")
    else:
        assert_error(response, 400, "PARSE_ERROR")
    assert db_snapshot() == before


def test_huge_integer_literal_is_refused(api, db):
    # given a quantity with more digits than Python parses
    raw = json.dumps(ORDER_PAYLOAD).replace('"quantity": 2', '"quantity": ' + "9" * 5000)
    before = db_snapshot()

    # when
    response = api["Integrator"].post(ORDERS, raw, content_type="application/json")

    # then
    assert_error(response, 400, "PARSE_ERROR")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"new_state": "PAID", "payment_reference": "p", "colour": "red"},
        {"new_state": "PAID", "payment_reference": {"id": "p"}},
        {"new_state": "PAID", "payment_reference": "p" * 121},
        {"new_state": ["PAID"]},
    ],
    ids=["unknown-field", "wrong-type", "too-long", "list"],
)
def test_bad_state_change_input_is_a_validation_error(api, make_order, body):
    # given
    order = make_order()
    before = db_snapshot()

    # when
    response = api["admin"].patch(state_path(order.pk), body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]
    assert db_snapshot() == before


@pytest.mark.parametrize("where", ["create", "state", "token"])
def test_a_2_mb_body_is_413(api, make_order, where):
    # given
    order = make_order()
    path = {"create": ORDERS, "state": state_path(order.pk), "token": "/api/v1/auth/token"}[where]
    body = json.dumps({**ORDER_PAYLOAD, "notes": "x" * (2 * 1024 * 1024)})
    before = db_snapshot()

    # when
    response = api["admin"].post(path, body, content_type="application/json")

    # then
    assert_error(response, 413, "REQUEST_TOO_LARGE")
    assert db_snapshot() == before


def test_a_body_just_under_the_limit_is_read(api, db, settings):
    # given a body under the limit whose only fault is a field that is too long
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({**ORDER_PAYLOAD, "notes": "x" * (60 * 1024)})

    # when
    response = api["admin"].post(ORDERS, body, content_type="application/json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["notes"]


def test_an_unacceptable_accept_header_is_406_with_the_error_body(api, db):
    # when
    response = api["Support"].get(ORDERS, HTTP_ACCEPT="application/xml")

    # then
    assert_error(response, 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
    ],
)
@pytest.mark.parametrize("where", ["create", "state"])
def test_non_json_content_type_is_415(api, make_order, content_type, where):
    # given
    order = make_order()
    path = ORDERS if where == "create" else state_path(order.pk)
    before = db_snapshot()

    # when
    response = api["admin"].post(path, json.dumps(ORDER_PAYLOAD), content_type=content_type)

    # then
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/orders/{id}"),
        ("put", "/api/v1/orders/{id}"),
        ("patch", "/api/v1/orders/{id}"),
        ("post", "/api/v1/orders/{id}"),
        ("delete", "/api/v1/orders"),
        ("put", "/api/v1/orders"),
        ("get", "/api/v1/orders/{id}/state"),
        ("put", "/api/v1/orders/{id}/state"),
        ("delete", "/api/v1/orders/{id}/state"),
        ("post", "/api/v1/orders/{id}/history"),
        ("post", "/api/v1/audit"),
        ("get", "/api/v1/auth/token"),
        ("post", "/api/v1/health"),
    ],
)
def test_wrong_method_is_405(api, make_order, method, path):
    # given
    order = make_order()
    before = db_snapshot()

    # when
    response = getattr(api["admin"], method)(
        path.format(id=order.pk), {"new_state": "CANCELLED", "reason": "x"}, format="json"
    )

    # then
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert db_snapshot() == before


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/nope", "/api/nope", "/api/v2/orders", "/api/v1/orders/not-a-uuid/state"],
)
def test_unknown_path_is_404(api, db, method, path):
    # when
    response = getattr(api["admin"], method)(path)

    # then
    assert_error(response, 404, "NOT_FOUND")


def test_unknown_path_is_404_even_for_anonymous(client, db):
    # when
    response = client.get("/api/v1/nope")

    # then
    assert_error(response, 404, "NOT_FOUND")


def test_too_many_token_requests_are_throttled(client, db, monkeypatch):
    # given a low rate for the token endpoint
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/minute"})
    credentials = {"username": "x", "password": "y"}

    # when
    statuses = [
        client.post("/api/v1/auth/token", credentials, content_type="application/json")
        for _ in range(4)
    ]

    # then
    assert [r.status_code for r in statuses[:3]] == [401, 401, 401]
    error = assert_error(statuses[3], 429, "THROTTLED")
    assert list(error["details"]) == ["retry_after"]
    assert isinstance(error["details"]["retry_after"], int)
    assert 0 < error["details"]["retry_after"] <= 60
    assert statuses[3]["Retry-After"] == str(error["details"]["retry_after"])


SECRET = "SELECT password FROM auth_user /* s3cr3t */"


@pytest.mark.parametrize(
    ("target", "method", "path", "body"),
    [
        ("orders.api.order_get", "get", "/api/v1/orders/{id}", None),
        ("orders.api.order_list", "get", "/api/v1/orders", None),
        ("orders.api.audit_record_list", "get", "/api/v1/orders/{id}/history", None),
        ("audit.api.audit_record_list", "get", "/api/v1/audit", None),
        # The write's answer is built from the rows it wrote: fail while building it.
        ("orders.api.order_body", "post", "/api/v1/orders", ORDER_PAYLOAD),
        (
            "orders.api.order_body_complete",
            "patch",
            "/api/v1/orders/{id}/state",
            {"new_state": "PAID", "payment_reference": "p"},
        ),
    ],
    ids=["retrieve", "list", "history", "audit", "create", "state"],
)
def test_an_unexpected_error_is_a_generic_500_that_writes_nothing(
    api, make_order, target, method, path, body
):
    # given a selector that fails the way a broken database or a bug would
    order = make_order()
    before = db_snapshot()

    # when
    with mock.patch(target, side_effect=RuntimeError(SECRET)):
        response = getattr(api["admin"], method)(path.format(id=order.pk), body, format="json")

    # then
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert error == {
        "code": "INTERNAL_ERROR",
        "message": "An internal error occurred.",
        "details": {},
    }
    text = response.content.decode()
    for leak in ["s3cr3t", "SELECT", "Traceback", "RuntimeError", ".py", connection.vendor]:
        assert leak not in text
    assert db_snapshot() == before
