"""Who may do what (PRODUCT.md "Roles" and the transition table; API.md "Endpoints")."""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from audit.models import AuditRecord
from conftest import ORDER_PAYLOAD
from orders.models import Order
from orders.tests.helpers import STATE_INPUTS, assert_error, db_snapshot, state_path

USERS = ["Warehouse", "Support", "Manager", "Integrator", "admin", "nobody"]

# (transition, from, to) and who may make it, straight from PRODUCT.md.
TRANSITIONS = [
    ("pay", "PENDING_PAYMENT", "PAID"),
    ("start_processing", "PAID", "PROCESSING_IN_WAREHOUSE"),
    ("ship", "PROCESSING_IN_WAREHOUSE", "SHIPPED"),
    ("deliver", "SHIPPED", "DELIVERED"),
    ("cancel", "PENDING_PAYMENT", "CANCELLED"),
    ("cancel", "PAID", "CANCELLED"),
]
MAY = {
    "pay": {"Integrator", "Support", "Manager", "admin"},
    "start_processing": {"Warehouse", "Manager", "admin"},
    "ship": {"Warehouse", "Manager", "admin"},
    "deliver": {"Warehouse", "Integrator", "Manager", "admin"},
    "cancel": {"Support", "Integrator", "Manager", "admin"},
}
ROLE_MATRIX = [
    pytest.param(user, transition, current, target, id=f"{user}-{transition}-from-{current}")
    for user in USERS
    for transition, current, target in TRANSITIONS
]


@pytest.fixture
def order_with_history(make_order):
    return make_order("PAID")


# Every endpoint of API.md that needs a login, with a valid body. Returns and invoices are other
# apps' work; only their doors are checked here. {id} is a real order, {other} a random uuid.
CANCEL = {"new_state": "CANCELLED", "reason": "r"}
LOGIN_ENDPOINTS = [
    pytest.param("get", "/api/v1/orders", None, id="list-orders"),
    pytest.param("post", "/api/v1/orders", ORDER_PAYLOAD, id="create-order"),
    pytest.param("get", "/api/v1/orders/{id}", None, id="retrieve-order"),
    pytest.param("patch", "/api/v1/orders/{id}/state", CANCEL, id="patch-order-state"),
    pytest.param("post", "/api/v1/orders/{id}/state", CANCEL, id="post-order-state"),
    pytest.param("get", "/api/v1/orders/{id}/history", None, id="order-history"),
    pytest.param("get", "/api/v1/orders/{id}/invoice", None, id="order-invoice"),
    pytest.param("get", "/api/v1/returns", None, id="list-returns"),
    pytest.param(
        "post", "/api/v1/returns", {"order_id": "{id}", "reason": "OTHER"}, id="create-return"
    ),
    pytest.param("get", "/api/v1/returns/{other}", None, id="retrieve-return"),
    pytest.param(
        "patch", "/api/v1/returns/{other}/state", {"new_state": "APPROVED"}, id="patch-return-state"
    ),
    pytest.param("get", "/api/v1/returns/{other}/history", None, id="return-history"),
    pytest.param("get", "/api/v1/audit", None, id="audit"),
]


def _request(client, order, method, path, body):
    ids = {"id": order.pk, "other": uuid.uuid4()}
    if body:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    return getattr(client, method)(path.format(**ids), body, format="json")


@pytest.mark.parametrize(("user", "transition", "current", "target"), ROLE_MATRIX)
def test_each_role_makes_exactly_its_transitions(
    clients, users, make_order, user, transition, current, target
):
    # given
    order = make_order(current)
    before = db_snapshot()

    # when
    response = clients[user].patch(
        state_path(order.pk), {"new_state": target, **STATE_INPUTS[target]}, format="json"
    )

    # then
    if user in MAY[transition]:
        assert response.status_code == 200, response.json()
        assert Order.objects.get(pk=order.pk).status == target
        record = AuditRecord.objects.get(entity_id=order.pk, transition=transition)
        assert record.actor == users[user]
        assert record.actor_type == "USER"
    else:
        assert_error(response, 403, "PERMISSION_DENIED")
        assert db_snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), LOGIN_ENDPOINTS)
def test_anonymous_gets_401_and_writes_nothing(clients, order_with_history, method, path, body):
    # given
    before = db_snapshot()

    # when
    response = _request(clients["anonymous"], order_with_history, method, path, body)

    # then
    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"] == "Token"
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "authorization", ["Token not-a-real-key", "Token", "Token a b"], ids=["unknown", "empty", "two"]
)
@pytest.mark.parametrize(("method", "path", "body"), LOGIN_ENDPOINTS)
def test_bad_token_gets_401_and_writes_nothing(
    order_with_history, method, path, body, authorization
):
    # given
    client = APIClient(HTTP_AUTHORIZATION=authorization)
    before = db_snapshot()

    # when
    response = _request(client, order_with_history, method, path, body)

    # then
    assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/health", 200),
        ("get", "/api/v1/schema", 200),
        ("get", "/api/v1/docs", 200),
    ],
)
def test_anonymous_reaches_health_schema_and_docs(client, db, method, path, status):
    # when
    response = getattr(client, method)(path)

    # then
    assert response.status_code == status


def test_anonymous_may_ask_for_a_token(client, users):
    # when
    response = client.post(
        "/api/v1/auth/token",
        {"username": "warehouse", "password": "pw-for-tests-1"},
        content_type="application/json",
    )

    # then
    assert response.status_code == 200
    assert set(response.json()) == {"token"}


@pytest.mark.parametrize("user", USERS)
def test_create_is_for_support_integrator_manager(clients, users, user):
    # given
    before = db_snapshot()

    # when
    response = clients[user].post("/api/v1/orders", ORDER_PAYLOAD, format="json")

    # then
    if user in {"Support", "Integrator", "Manager", "admin"}:
        assert response.status_code == 201, response.json()
        order = Order.objects.get(pk=response.json()["id"])
        assert order.created_by == users[user]
        assert AuditRecord.objects.get(entity_id=order.pk).actor == users[user]
    else:
        assert_error(response, 403, "PERMISSION_DENIED")
        assert db_snapshot() == before


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("what", ["list", "retrieve", "history"])
def test_reading_orders_is_for_staff_and_integrators(clients, order_with_history, user, what):
    # given
    path = {
        "list": "/api/v1/orders",
        "retrieve": f"/api/v1/orders/{order_with_history.pk}",
        "history": f"/api/v1/orders/{order_with_history.pk}/history",
    }[what]

    # when
    response = clients[user].get(path)

    # then
    if user == "nobody":
        assert_error(response, 403, "PERMISSION_DENIED")
    else:
        assert response.status_code == 200, response.json()
        body = response.json()
        if what == "retrieve":
            assert body["number"] == order_with_history.number
        else:
            assert body["count"] == (1 if what == "list" else 2)


@pytest.mark.parametrize("user", USERS)
def test_audit_log_is_for_support_and_managers(clients, order_with_history, user):
    # when
    response = clients[user].get("/api/v1/audit")

    # then
    if user in {"Support", "Manager", "admin"}:
        assert response.status_code == 200, response.json()
        assert response.json()["count"] == 2
    else:
        assert_error(response, 403, "PERMISSION_DENIED")


def test_a_deactivated_users_token_stops_working(clients, users):
    # given
    users["Support"].is_active = False
    users["Support"].save(update_fields=["is_active"])

    # when
    response = clients["Support"].get("/api/v1/orders")

    # then
    assert_error(response, 401, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize(
    ("user", "current", "target", "code"),
    [
        ("Warehouse", "PAID", "SHIPPED", "INVALID_STATE_TRANSITION"),
        ("Integrator", "PENDING_PAYMENT", "DELIVERED", "INVALID_STATE_TRANSITION"),
        ("Support", "SHIPPED", "CANCELLED", "INVALID_STATE_TRANSITION"),
        ("Warehouse", "DELIVERED", "CANCELLED", "PERMISSION_DENIED"),
        ("Integrator", "SHIPPED", "PROCESSING_IN_WAREHOUSE", "PERMISSION_DENIED"),
        ("Support", "DELIVERED", "SHIPPED", "PERMISSION_DENIED"),
        ("nobody", "PENDING_PAYMENT", "PAID", "PERMISSION_DENIED"),
    ],
)
def test_a_role_learns_the_state_only_for_transitions_it_may_make(
    clients, make_order, user, current, target, code
):
    # given
    order = make_order(current)
    before = db_snapshot()

    # when
    response = clients[user].patch(
        state_path(order.pk), {"new_state": target, **STATE_INPUTS[target]}, format="json"
    )

    # then a role that may make the transition is told why not now; one that never may is not
    # told the order's state
    if code == "INVALID_STATE_TRANSITION":
        error = assert_error(response, 409, code)
        assert error["details"]["current_state"] == current
    else:
        error = assert_error(response, 403, code)
        assert current not in json.dumps(error)
    assert db_snapshot() == before
