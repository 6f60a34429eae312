"""Each order endpoint answers with a fixed number of SQL statements, whatever the page size
and whatever the orders hold (QUALITY.md: statements, not milliseconds, are what we pin)."""

import pytest
from django.db import connection

from conftest import ORDER_PAYLOAD

ORDERS = "/api/v1/orders"

# Token and roles (1), count (1), page (1, with the invoice joined), lines (1), returns (1).
LIST = 5
# Token and roles, the order with its invoice, lines, returns.
RETRIEVE = 4
# Token and roles, does the order exist, count, page (with the actors joined).
HISTORY = 4
# Token and roles, 2 savepoints (view and service) and their releases, lock (with the
# invoice), update, history row, audit record, lines, returns: no second read of the order.
# Plus the webhook event written with the audit record (WEBHOOK): on PostgreSQL one statement
# (the event row, and its deliveries chosen from the subscribed endpoints), elsewhere the
# endpoints' SELECT and the event row; its snapshot is taken from the locked row, whose lines
# and returns the answer then reuses.
WEBHOOK = 1 if connection.vendor == "postgresql" else 2
STATE = 11 + WEBHOOK
# Token and roles, the view's savepoint and its release (the service runs in it), lines,
# number (NUMBER: on PostgreSQL the order's INSERT takes it), order, history row, audit record:
# the body comes from what the creation holds; plus
# the webhook event, and the stock of its catalogue SKUs (STOCK): resolve the SKUs with the
# stock they have available (whether it covers the order is known before its number), one
# conditional UPDATE that locks and allocates and (PostgreSQL) writes the movements, which
# SQLite inserts in a statement of their own.
STOCK = 2 if connection.vendor == "postgresql" else 3
NUMBER = 0 if connection.vendor == "postgresql" else 1
CREATE = 7 + NUMBER + WEBHOOK + STOCK


@pytest.fixture
def many_orders(make_order):
    """30 orders in every state, so a per-row query would show up 30 times."""
    states = ["PENDING_PAYMENT", "PAID", "PROCESSING_IN_WAREHOUSE", "SHIPPED", "DELIVERED"]
    return [make_order(states[n % len(states)]) for n in range(30)]


def test_list_statements_do_not_grow_with_the_page(api, many_orders, django_assert_max_num_queries):
    with django_assert_max_num_queries(LIST):
        response = api["Support"].get(ORDERS, {"page_size": 100})
    assert len(response.json()["results"]) == 30
    with django_assert_max_num_queries(LIST):
        filtered = api["Support"].get(ORDERS, {"page_size": 100, "status": "SHIPPED,DELIVERED"})
    assert len(filtered.json()["results"]) == 12
    with django_assert_max_num_queries(LIST):
        following = api["Support"].get(ORDERS, {"page_size": 10}).json()["next"]
    with django_assert_max_num_queries(LIST):
        assert len(api["Support"].get(following).json()["results"]) == 10


def test_retrieve_statements(api, many_orders, django_assert_max_num_queries):
    shipped = many_orders[3]
    with django_assert_max_num_queries(RETRIEVE):
        response = api["Warehouse"].get(f"{ORDERS}/{shipped.pk}")
    assert response.json()["invoice"]["status"] == "PENDING"


def test_history_statements(api, many_orders, django_assert_max_num_queries):
    delivered = many_orders[4]
    with django_assert_max_num_queries(HISTORY):
        response = api["Integrator"].get(f"{ORDERS}/{delivered.pk}/history", {"page_size": 100})
    assert [r["transition"] for r in response.json()["results"]] == [
        "create", "pay", "start_processing", "ship", "deliver",
    ]  # fmt: skip


def test_state_change_answers_from_the_row_it_locked(
    api, many_orders, django_assert_max_num_queries
):
    shipped = many_orders[3]
    with django_assert_max_num_queries(STATE):
        response = api["Warehouse"].patch(
            f"{ORDERS}/{shipped.pk}/state", {"new_state": "DELIVERED"}, format="json"
        )
    body = response.json()
    assert body["status"] == "DELIVERED" and body["allowed_transitions"] == []
    assert body["invoice"]["status"] == "PENDING" and len(body["items"]) == 1


def test_create_answers_from_what_it_wrote(api, make_order, django_assert_max_num_queries):
    make_order()  # the year's number counter exists (the year's first order creates it)
    with django_assert_max_num_queries(CREATE):
        response = api["Support"].post(ORDERS, ORDER_PAYLOAD, format="json")
    body = response.json()
    assert response.status_code == 201
    assert body["number"].startswith("ORD-") and body["returns"] == []
    assert body["invoice"] is None and body["items"][0]["sku"] == "VASE-01"
    assert api["Support"].get(f"{ORDERS}/{body['id']}").json() == body
