"""Every order endpoint and field of API.md, through DRF's test client."""

import json
import re
import uuid
from datetime import datetime
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from articurated.context import JOB, ActionContext, Source
from audit.models import AuditRecord
from audit.services import audit_record_create_rollback_unsafe
from catalogue.models import Sku
from conftest import ORDER_PAYLOAD
from orders.models import Order
from orders.services import order_create
from orders.tests.helpers import STATE_INPUTS, assert_error, db_snapshot, state_path

ORDER_KEYS = {
    "id", "number", "status", "customer", "currency", "shipping_address", "billing_address",
    "items", "subtotal", "shipping_amount", "tax_amount", "total_amount", "payment_method",
    "payment_reference", "carrier", "tracking_number", "notes", "cancellation_reason",
    "allowed_transitions", "invoice", "returns", "created_at", "updated_at", "paid_at",
    "shipped_at", "delivered_at", "cancelled_at",
}  # fmt: skip
ITEM_KEYS = {
    "id", "sku", "sku_id", "name", "quantity", "unit_price", "line_total", "returned_quantity",
}  # fmt: skip
ADDRESS_KEYS = {"name", "line1", "line2", "city", "region", "postal_code", "country", "phone"}
AUDIT_KEYS = {
    "id", "entity_type", "entity_id", "entity_number", "transition", "previous_state",
    "new_state", "actor", "actor_type", "source", "reason", "metadata", "ip_address",
    "request_id", "created_at",
}  # fmt: skip
ORDERS = "/api/v1/orders"


def _is_iso_datetime_with_zone(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


def _create(client, payload=ORDER_PAYLOAD, **headers):
    return client.post(ORDERS, payload, format="json", **headers)


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [order["number"] for order in response.json()["results"]]


# --- create and retrieve ------------------------------------------------------------------


def test_create_returns_the_documented_order_body(api, users):
    # when
    response = _create(api["Integrator"], HTTP_X_REQUEST_ID="storefront-1")

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ORDER_KEYS
    uuid.UUID(body["id"])
    assert re.fullmatch(rf"ORD-{timezone.now().year}-\d{{6}}", body["number"])
    assert body["status"] == "PENDING_PAYMENT"
    assert body["customer"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    assert body["currency"] == "USD"
    assert body["shipping_address"] == ORDER_PAYLOAD["shipping_address"]
    assert body["billing_address"] == ORDER_PAYLOAD["shipping_address"]
    [item] = body["items"]
    assert set(item) == ITEM_KEYS
    uuid.UUID(item["id"])
    assert item == {
        "id": item["id"],
        "sku": "VASE-01",
        "sku_id": str(Sku.objects.get(code="VASE-01").pk),
        "name": "Hand-thrown vase",
        "quantity": 2,
        "unit_price": "49.50",
        "line_total": "99.00",
        "returned_quantity": 0,
    }
    assert (body["subtotal"], body["shipping_amount"], body["tax_amount"]) == (
        "99.00",
        "5.00",
        "0.00",
    )
    assert body["total_amount"] == "104.00"
    for field in ["payment_method", "payment_reference", "carrier", "tracking_number"]:
        assert body[field] is None
    assert body["cancellation_reason"] is None
    assert body["notes"] == "Gift wrap"
    assert body["allowed_transitions"] == ["PAID", "CANCELLED"]
    assert body["invoice"] is None
    assert body["returns"] == []
    assert _is_iso_datetime_with_zone(body["created_at"])
    assert _is_iso_datetime_with_zone(body["updated_at"])
    for field in ["paid_at", "shipped_at", "delivered_at", "cancelled_at"]:
        assert body[field] is None
    # and its creation is on the audit trail
    record = AuditRecord.objects.get(entity_id=body["id"])
    assert (record.transition, record.previous_state, record.new_state) == (
        "create",
        None,
        "PENDING_PAYMENT",
    )
    assert record.actor == users["Integrator"]
    assert record.source == "API"
    assert record.request_id == "storefront-1"


@pytest.mark.parametrize("billing", ["null", "absent"])
def test_billing_defaults_to_shipping_and_currency_to_usd(api, billing):
    # given
    payload = {k: v for k, v in ORDER_PAYLOAD.items() if k != "currency"}
    if billing == "absent":
        del payload["billing_address"]

    # when
    response = _create(api["Support"], payload)

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == "USD"
    assert response.json()["billing_address"] == ORDER_PAYLOAD["shipping_address"]


def test_a_separate_billing_address_and_currency_are_kept(api):
    # given
    billing = {
        "name": "Ada's Office",
        "line1": "1 Analytical Row",
        "line2": "Floor 2",
        "city": "Paris",
        "region": "IDF",
        "postal_code": "75001",
        "country": "FR",
        "phone": "",
    }

    # when
    euro_item = {**ORDER_PAYLOAD["items"][0], "sku": "VASE-01-EU"}
    response = _create(
        api["Support"],
        {**ORDER_PAYLOAD, "billing_address": billing, "currency": "EUR", "items": [euro_item]},
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["billing_address"] == billing
    assert response.json()["shipping_address"] == ORDER_PAYLOAD["shipping_address"]
    assert response.json()["currency"] == "EUR"


def test_optional_address_parts_and_amounts_may_be_left_out(api):
    # given
    shipping = {"name": "Ada", "line1": "12 St James's Sq", "city": "London", "country": "gb"}
    payload = {
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shipping_address": shipping,
        "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}],
    }

    # when
    response = _create(api["Support"], payload)

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["shipping_address"] == {
        **shipping,
        "country": "GB",
        "line2": "",
        "region": "",
        "postal_code": "",
        "phone": "",
    }
    assert (body["shipping_amount"], body["tax_amount"], body["total_amount"]) == (
        "0.00",
        "0.00",
        "1.00",
    )
    assert body["notes"] == ""


def test_money_is_computed_by_the_server_as_two_place_strings(api):
    # given
    payload = {
        **ORDER_PAYLOAD,
        "items": [
            {"sku": "CUP", "name": "Cup", "quantity": 3, "unit_price": "0.10"},
            {"sku": "BOWL", "name": "Bowl", "quantity": 1, "unit_price": "12"},
            {"sku": "PLATE", "name": "Plate", "quantity": 10000, "unit_price": "1000000"},
        ],
        "shipping_amount": "4.5",
        "tax_amount": "1.05",
    }

    # when
    response = _create(api["Support"], payload)

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(i["unit_price"], i["line_total"]) for i in body["items"]] == [
        ("0.10", "0.30"),
        ("12.00", "12.00"),
        ("1000000.00", "10000000000.00"),
    ]
    assert body["subtotal"] == "10000000012.30"
    assert body["shipping_amount"] == "4.50"
    assert body["total_amount"] == "10000000017.85"


def test_an_order_of_many_lines_keeps_every_line_in_order(api):
    # given more lines than Django lets one INSERT carry on SQLite (999 parameters): batches
    codes = ["VASE-01", "BOWL-02", "CARD-01", "CUP", "PEN"]
    items = [{"sku": codes[n % len(codes)], "quantity": 1 + n % 3} for n in range(150)]

    # when
    response = api["Support"].post(
        "/api/v1/orders", {**ORDER_PAYLOAD, "items": items}, format="json"
    )

    # then
    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    stored = list(order.items.order_by("position").values_list("position", "sku", "quantity"))
    assert stored == [(n, item["sku"], item["quantity"]) for n, item in enumerate(items)]
    assert [line["sku"] for line in response.json()["items"]] == [item["sku"] for item in items]


def test_numbers_follow_each_other(api):
    # when
    first = _create(api["Support"]).json()["number"]
    second = _create(api["Support"]).json()["number"]

    # then
    assert int(second[-6:]) == int(first[-6:]) + 1
    assert first[:9] == second[:9] == f"ORD-{timezone.now().year}-"


def test_retrieve_returns_the_same_body_as_create(api):
    # given
    created = _create(api["Support"]).json()

    # when
    response = api["Warehouse"].get(f"{ORDERS}/{created['id']}")

    # then
    assert response.status_code == 200
    assert response.json() == created


def test_paths_with_a_trailing_slash_work_without_redirect(api):
    # when
    created = api["Support"].post(f"{ORDERS}/", ORDER_PAYLOAD, format="json")
    listed = api["Support"].get(f"{ORDERS}/")
    retrieved = api["Support"].get(f"{ORDERS}/{created.json()['id']}/")
    history = api["Support"].get(f"{ORDERS}/{created.json()['id']}/history/")

    # then
    assert created.status_code == 201
    assert listed.status_code == retrieved.status_code == history.status_code == 200
    assert listed.json()["results"] == [retrieved.json()] == [created.json()]
    assert history.json()["count"] == 1


@pytest.mark.parametrize("order_id", [str(uuid.uuid4()), "not-a-uuid", "12345"])
def test_retrieve_unknown_order_is_404(api, order_id):
    # when
    response = api["Support"].get(f"{ORDERS}/{order_id}")

    # then
    assert_error(response, 404, "NOT_FOUND")


def test_state_change_responds_with_the_full_order_body(api, make_order):
    # given
    order = make_order("PROCESSING_IN_WAREHOUSE")

    # when
    response = api["Warehouse"].patch(
        state_path(order.pk), {"new_state": "SHIPPED", **STATE_INPUTS["SHIPPED"]}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == ORDER_KEYS
    assert body == api["Warehouse"].get(f"{ORDERS}/{order.pk}").json()


# --- list -----------------------------------------------------------------------------------


def test_list_is_paginated_20_by_default_and_at_most_100(api, make_order):
    # given
    for _ in range(101):
        make_order()

    # when
    default = api["Support"].get(ORDERS).json()
    small = api["Support"].get(ORDERS, {"page_size": 7, "page": 2}).json()
    huge = api["Support"].get(ORDERS, {"page_size": 100}).json()
    too_big = api["Support"].get(ORDERS, {"page_size": 1000})
    last = api["Support"].get(ORDERS, {"page_size": 100, "page": 2}).json()

    # then
    assert set(default) == {"count", "count_exact", "next", "previous", "results"}
    assert default["count"] == 101 and default["count_exact"] is True
    assert len(default["results"]) == 20
    assert "cursor=" in default["next"]
    assert default["previous"] is None
    assert len(small["results"]) == 7
    assert "cursor=" in small["next"] and "page_size=7" in small["next"]
    assert small["previous"] is not None
    assert len(huge["results"]) == 100
    assert too_big.status_code == 400
    assert too_big.json()["error"]["code"] == "VALIDATION_ERROR"
    assert len(last["results"]) == 1
    assert last["next"] is None
    # and pages do not overlap
    first_hundred = {o["id"] for o in huge["results"]}
    assert last["results"][0]["id"] not in first_hundred
    assert set(default["results"][0]) == ORDER_KEYS


def test_a_page_past_the_end_is_404(api, make_order):
    # given
    make_order()

    # when
    response = api["Support"].get(ORDERS, {"page": 5})

    # then
    assert_error(response, 404, "NOT_FOUND")


@pytest.fixture
def three_orders(make_order):
    """Oldest first: ada (PENDING_PAYMENT, 104.00), grace (PAID, 15.00), alan (SHIPPED,
    1005.00, tracking number 1Z999AA10123456784). Timestamps taken between them."""
    one_item = [{"sku": "PEN", "name": "Pen", "quantity": 1, "unit_price": "10.00"}]
    big_item = [{"sku": "RUG", "name": "Rug", "quantity": 2, "unit_price": "500.00"}]
    ada = make_order("PENDING_PAYMENT")
    after_ada = timezone.now()
    grace = make_order(
        "PAID", customer={"email": "grace@example.com", "name": "Grace Hopper"}, items=one_item
    )
    after_grace = timezone.now()
    alan = make_order(
        "SHIPPED", customer={"email": "alan@example.org", "name": "Alan Turing"}, items=big_item
    )
    return {
        "ada": ada,
        "grace": grace,
        "alan": alan,
        "after_ada": after_ada,
        "after_grace": after_grace,
    }


def test_list_is_newest_first_by_default(api, three_orders):
    # when
    response = api["Integrator"].get(ORDERS)

    # then
    o = three_orders
    assert _numbers(response) == [o["alan"].number, o["grace"].number, o["ada"].number]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "PAID"}, ["grace"]),
        ({"status": ["PAID", "SHIPPED"]}, ["alan", "grace"]),
        ({"status": "PAID,SHIPPED"}, ["alan", "grace"]),
        ({"status": "PENDING_PAYMENT, SHIPPED"}, ["alan", "ada"]),
        ({"status": "DELIVERED"}, []),
        ({"customer_email": "grace@example.com"}, ["grace"]),
        ({"customer_email": "GRACE@Example.com"}, ["grace"]),
        ({"customer_email": "nobody@example.com"}, []),
        ({"search": "1Z999AA10123456784"}, ["alan"]),
        ({"search": "grace@example.com"}, ["grace"]),
        ({"search": "example.org"}, ["alan"]),
        ({"ordering": "created_at"}, ["ada", "grace", "alan"]),
        ({"ordering": "-created_at"}, ["alan", "grace", "ada"]),
        ({"ordering": "total_amount"}, ["grace", "ada", "alan"]),
        ({"ordering": "-total_amount"}, ["alan", "ada", "grace"]),
        ({"status": "PENDING_PAYMENT,PAID", "ordering": "total_amount"}, ["grace", "ada"]),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_list_filters_search_and_ordering(api, three_orders, query, expected):
    # when
    response = api["Support"].get(ORDERS, query)

    # then
    assert _numbers(response) == [three_orders[name].number for name in expected]
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("name", ["ada", "grace", "alan"])
def test_search_finds_an_order_by_its_number(api, three_orders, name):
    # when
    response = api["Support"].get(ORDERS, {"search": three_orders[name].number})

    # then
    assert _numbers(response) == [three_orders[name].number]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"created_after": "after_ada"}, ["alan", "grace"]),
        ({"created_before": "after_ada"}, ["ada"]),
        ({"created_after": "after_ada", "created_before": "after_grace"}, ["grace"]),
        ({"created_after": "after_grace", "created_before": "after_ada"}, []),
    ],
    ids=["after", "before", "between", "empty-range"],
)
def test_list_filters_by_creation_time(api, three_orders, bounds, expected):
    # given
    query = {key: three_orders[moment].isoformat() for key, moment in bounds.items()}

    # when
    response = api["Support"].get(ORDERS, query)

    # then
    assert _numbers(response) == [three_orders[name].number for name in expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "LOST"}, "status"),
        ({"status": "PAID,LOST"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-45"}, "created_before"),
    ],
)
def test_bad_list_filters_are_validation_errors(api, three_orders, query, field):
    # when
    response = api["Support"].get(ORDERS, query)

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in error["details"]


# --- history and audit ----------------------------------------------------------------------


def test_history_lists_the_orders_audit_records_oldest_first_paginated(api, users, make_order):
    # given an order shipped by the warehouse over the API, and another order
    order = make_order("PROCESSING_IN_WAREHOUSE")
    make_order("PAID")
    api["Warehouse"].patch(
        state_path(order.pk),
        {"new_state": "SHIPPED", **STATE_INPUTS["SHIPPED"]},
        format="json",
        HTTP_X_REQUEST_ID="ship-1",
    )

    # when
    first = api["Integrator"].get(f"{ORDERS}/{order.pk}/history", {"page_size": 3}).json()
    second = api["Integrator"].get(f"{ORDERS}/{order.pk}/history", {"page_size": 3, "page": 2})

    # then
    assert first["count"] == 4
    assert [r["transition"] for r in first["results"]] == ["create", "pay", "start_processing"]
    assert first["previous"] is None and "cursor=" in first["next"]
    [ship] = second.json()["results"]
    assert set(ship) == AUDIT_KEYS
    assert ship == {
        "id": ship["id"],
        "entity_type": "ORDER",
        "entity_id": str(order.pk),
        "entity_number": order.number,
        "transition": "ship",
        "previous_state": "PROCESSING_IN_WAREHOUSE",
        "new_state": "SHIPPED",
        "actor": {"id": users["Warehouse"].pk, "username": "warehouse"},
        "actor_type": "USER",
        "source": "API",
        "reason": None,
        "metadata": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        "ip_address": "127.0.0.1",
        "request_id": "ship-1",
        "created_at": ship["created_at"],
    }
    assert _is_iso_datetime_with_zone(ship["created_at"])
    create = first["results"][0]
    assert create["previous_state"] is None
    assert create["actor"] is None and create["actor_type"] == "SYSTEM"


def test_history_of_unknown_order_is_404(api, db):
    # when
    response = api["Support"].get(f"{ORDERS}/{uuid.uuid4()}/history")

    # then
    assert_error(response, 404, "NOT_FOUND")


@pytest.fixture
def audit_trail(api, users, make_order):
    """Records from several sources, actors, types and times."""
    by_system = make_order("PAID")  # create + pay, system actor, source API
    after_system = timezone.now()
    by_support = _create(api["Support"]).json()  # create, support, source API
    after_support = timezone.now()
    by_job = order_create(
        actor=None,
        context=JOB,
        customer_email="job@example.com",
        customer_name="Job",
        shipping_address=ORDER_PAYLOAD["shipping_address"],
        items=ORDER_PAYLOAD["items"],
    )
    with transaction.atomic():
        a_return = audit_record_create_rollback_unsafe(
            entity_type="RETURN",
            entity_id=uuid.uuid4(),
            entity_number="RMA-2026-000001",
            transition="create",
            previous_state=None,
            new_state="REQUESTED",
            actor=users["Manager"],
            context=ActionContext(source=Source.ADMIN),
        )
    return {
        "system": [str(by_system.pk)] * 2,
        "support": [by_support["id"]],
        "job": [str(by_job.pk)],
        "return": [str(a_return.entity_id)],
        "after_system": after_system,
        "after_support": after_support,
    }


def _entity_ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [record["entity_id"] for record in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["system", "support", "job", "return"]),
        ({"entity_type": "ORDER"}, ["system", "support", "job"]),
        ({"entity_type": "RETURN"}, ["return"]),
        ({"source": "API"}, ["system", "support"]),
        ({"source": "JOB"}, ["job"]),
        ({"source": "ADMIN"}, ["return"]),
        ({"source": "CLI"}, []),
        ({"actor": "support"}, ["support"]),
        ({"actor": "manager"}, ["return"]),
        ({"actor": "nobody-by-that-name"}, []),
        ({"created_after": "after_system"}, ["support", "job", "return"]),
        ({"created_before": "after_system"}, ["system"]),
        ({"created_after": "after_system", "created_before": "after_support"}, ["support"]),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_audit_filters(api, audit_trail, query, expected):
    # given
    query = {
        key: audit_trail[value].isoformat() if key.startswith("created_") else value
        for key, value in query.items()
    }

    # when
    response = api["Manager"].get("/api/v1/audit", query)

    # then
    assert _entity_ids(response) == [eid for name in expected for eid in audit_trail[name]]


def test_audit_filters_by_entity_id_and_actor_id(api, users, audit_trail):
    # when
    by_entity = api["Support"].get("/api/v1/audit", {"entity_id": audit_trail["job"][0]})
    by_actor = api["Support"].get("/api/v1/audit", {"actor": users["Support"].pk})

    # then
    assert _entity_ids(by_entity) == audit_trail["job"]
    assert _entity_ids(by_actor) == audit_trail["support"]
    assert set(by_actor.json()["results"][0]) == AUDIT_KEYS


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"entity_type": "CUSTOMER"}, "entity_type"),
        ({"entity_id": "not-a-uuid"}, "entity_id"),
        ({"source": "EMAIL"}, "source"),
        ({"created_after": "soon"}, "created_after"),
    ],
)
def test_bad_audit_filters_are_validation_errors(api, db, query, field):
    # when
    response = api["Manager"].get("/api/v1/audit", query)

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in error["details"]


# --- health, token, schema, docs ------------------------------------------------------------


def test_health_is_ok(client, db):
    # when
    response = client.get("/api/v1/health")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert body["checks"]["database"] == "ok"
    # "embedded" when no broker is configured and jobs run in-process
    assert body["checks"]["broker"] in {"ok", "embedded"}


def test_health_is_503_degraded_naming_the_failing_check(client, db):
    # given the broker cannot be reached
    with mock.patch("articurated.api.views.broker_check", return_value="unreachable"):
        # when
        response = client.get("/api/v1/health")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unreachable"},
    }


def test_token_for_good_credentials(client, users):
    # when
    response = client.post(
        "/api/v1/auth/token",
        {"username": "integrator", "password": "pw-for-tests-1"},
        content_type="application/json",
    )

    # then
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json() == {"token": Token.objects.get(user=users["Integrator"]).key}
    # and the token works
    orders = client.get(ORDERS, HTTP_AUTHORIZATION=f"Token {token}")
    assert orders.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "integrator", "password": "wrong"},
        {"username": "nobody-here", "password": "pw-for-tests-1"},
    ],
    ids=["bad-password", "unknown-user"],
)
def test_token_for_bad_credentials_is_401(client, users, credentials):
    # when
    response = client.post("/api/v1/auth/token", credentials, content_type="application/json")

    # then
    assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert Token.objects.count() == 0


def test_token_for_an_inactive_user_is_401(client, users):
    # given
    users["Support"].is_active = False
    users["Support"].save(update_fields=["is_active"])

    # when
    response = client.post(
        "/api/v1/auth/token",
        {"username": "support", "password": "pw-for-tests-1"},
        content_type="application/json",
    )

    # then
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_token_without_password_is_a_validation_error(client, db):
    # when
    response = client.post(
        "/api/v1/auth/token", {"username": "support"}, content_type="application/json"
    )

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["password"]


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _resolve(schema: dict, ref_holder: dict) -> dict:
    name = ref_holder["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]


def test_schema_is_openapi_3_with_the_documented_paths(schema):
    # then
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert {
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/state",
        "/api/v1/orders/{id}/history",
        "/api/v1/audit",
        "/api/v1/health",
        "/api/v1/auth/token",
    } <= set(paths)
    assert not [path for path in paths if path.endswith("/")]
    assert {"get", "post"} <= set(paths["/api/v1/orders"])
    assert {"patch", "post"} <= set(paths["/api/v1/orders/{id}/state"])


def test_schema_documents_the_order_body(schema):
    # given
    created = schema["paths"]["/api/v1/orders"]["post"]["responses"]["201"]
    order = _resolve(schema, created["content"]["application/json"]["schema"])

    # then
    assert set(order["properties"]) == ORDER_KEYS
    item = _resolve(schema, order["properties"]["items"]["items"])
    assert set(item["properties"]) == ITEM_KEYS
    request = schema["paths"]["/api/v1/orders"]["post"]["requestBody"]
    create_input = _resolve(schema, request["content"]["application/json"]["schema"])
    assert set(create_input["properties"]) == set(ORDER_PAYLOAD)
    params = {p["name"] for p in schema["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert {
        "status",
        "customer_email",
        "created_after",
        "created_before",
        "search",
        "ordering",
        "page",
        "page_size",
    } <= params


def test_schema_documents_the_error_body(schema):
    # given
    state = schema["paths"]["/api/v1/orders/{id}/state"]["patch"]["responses"]

    # then
    for status in ["400", "401", "403", "404", "409", "415", "429", "500"]:
        error = _resolve(schema, state[status]["content"]["application/json"]["schema"])
        assert set(error["properties"]) == {"error"}
        inner = _resolve(schema, error["properties"]["error"])
        assert set(inner["properties"]) == {"code", "message", "details"}


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def test_docs_page_uses_only_local_assets(client, db):
    # when
    response = client.get("/api/v1/docs")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    collector = _AssetCollector()
    collector.feed(page)
    assert collector.urls, "the page loads Swagger UI from somewhere"
    for url in collector.urls:
        assert url.startswith(settings.STATIC_URL) or url.startswith("/" + settings.STATIC_URL)
        assert finders.find(url.split(settings.STATIC_URL, 1)[1]), f"{url} is not shipped"
    assert "cdn" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


# --- request id -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/health", ORDERS, "/api/v1/nope"])
def test_request_id_is_echoed_when_sent(api, path):
    # when
    response = api["Support"].get(path, HTTP_X_REQUEST_ID="abc-123.x:y_z")

    # then
    assert response["X-Request-ID"] == "abc-123.x:y_z"


@pytest.mark.parametrize("path", ["/api/v1/health", ORDERS, "/api/v1/nope"])
def test_request_id_is_generated_when_absent_or_unusable(api, path):
    # when
    plain = api["Support"].get(path)
    odd = api["Support"].get(path, HTTP_X_REQUEST_ID="has spaces; and <html>")
    long = api["Support"].get(path, HTTP_X_REQUEST_ID="x" * 129)

    # then
    generated = [r["X-Request-ID"] for r in (plain, odd, long)]
    for value in generated:
        uuid.UUID(value)
    assert len(set(generated)) == 3


# --- idempotency ----------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response_and_creates_one_order(api):
    # given
    key = {"HTTP_IDEMPOTENCY_KEY": "order-7f3a"}
    first = _create(api["Integrator"], **key)

    # when
    again = _create(api["Integrator"], **key)

    # then
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert AuditRecord.objects.count() == 1


def test_same_key_with_a_different_body_is_422_and_creates_nothing(api):
    # given
    key = {"HTTP_IDEMPOTENCY_KEY": "order-7f3a"}
    _create(api["Integrator"], **key)
    before = db_snapshot()

    # when
    response = _create(api["Integrator"], {**ORDER_PAYLOAD, "notes": "changed"}, **key)

    # then
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert db_snapshot() == before


def test_keys_belong_to_one_user(api):
    # given
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    mine = _create(api["Integrator"], **key)

    # when
    theirs = _create(api["Support"], **key)

    # then
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert Order.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(api):
    # given a first attempt with a mistake
    key = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    refused = _create(api["Integrator"], {**ORDER_PAYLOAD, "items": []}, **key)
    assert refused.status_code == 400

    # when the corrected request comes with the same key
    response = _create(api["Integrator"], **key)

    # then
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 1


@pytest.mark.parametrize("length", [1, 255])
def test_keys_of_1_to_255_characters_are_accepted(api, length):
    # when
    response = _create(api["Integrator"], HTTP_IDEMPOTENCY_KEY="k" * length)

    # then
    assert response.status_code == 201


def test_a_key_longer_than_255_characters_is_400(api):
    # given
    before = db_snapshot()

    # when
    response = _create(api["Integrator"], HTTP_IDEMPOTENCY_KEY="k" * 256)

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in error["details"]
    assert db_snapshot() == before
