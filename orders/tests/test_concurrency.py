"""Races (QUALITY.md "Reliability bars"): many API clients at once, one thread and one database
connection each, released together by a barrier. Row locks are real only on PostgreSQL; the
numbers test also runs on SQLite, where IMMEDIATE transactions queue the writers."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditRecord
from conftest import ORDER_PAYLOAD, api_client_for, order_make, requires_postgres
from orders.models import Order
from orders.tests.helpers import STATE_INPUTS, state_path


def _race(clients, request):
    """Calls `request(client)` for every client in its own thread, all released at once;
    returns the responses in client order."""
    barrier = threading.Barrier(len(clients))

    def run(client):
        try:
            barrier.wait(timeout=60)
            return request(client)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(run, client) for client in clients]
        return [future.result(timeout=120) for future in futures]


@requires_postgres()
@pytest.mark.parametrize(
    ("current", "target", "transition"),
    [
        ("PAID", "PROCESSING_IN_WAREHOUSE", "start_processing"),
        ("PROCESSING_IN_WAREHOUSE", "SHIPPED", "ship"),
    ],
)
def test_fifty_clients_making_the_same_transition_succeed_once(
    transactional_db, users, current, target, transition
):
    # given
    order = order_make(current)
    clients = [api_client_for(users["Warehouse"]) for _ in range(50)]
    body = {"new_state": target, **STATE_INPUTS[target]}

    # when
    responses = _race(clients, lambda c: c.patch(state_path(order.pk), body, format="json"))

    # then exactly one wins; the others are told the order already moved
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49
    for response in responses:
        if response.status_code == 409:
            error = response.json()["error"]
            assert error["code"] == "INVALID_STATE_TRANSITION"
            assert error["details"]["current_state"] == target
    assert Order.objects.get(pk=order.pk).status == target
    assert AuditRecord.objects.filter(entity_id=order.pk, transition=transition).count() == 1
    assert order.history.filter(status=target).count() == 1


@requires_postgres()
def test_cancel_racing_start_processing_leaves_state_and_trail_consistent(transactional_db, users):
    # given a paid order, support cancelling it while the warehouse starts on it
    order = order_make("PAID")
    audit_before = AuditRecord.objects.filter(entity_id=order.pk).count()
    requests = {
        "CANCELLED": (users["Support"], {"new_state": "CANCELLED", "reason": "customer asked"}),
        "PROCESSING_IN_WAREHOUSE": (users["Warehouse"], {"new_state": "PROCESSING_IN_WAREHOUSE"}),
    }
    attempts = [target for _ in range(5) for target in requests]
    clients = [(target, api_client_for(requests[target][0])) for target in attempts]

    # when
    responses = _race(
        clients,
        lambda pair: pair[1].patch(state_path(order.pk), requests[pair[0]][1], format="json"),
    )

    # then one request won, and the order, its audit trail and its field history agree on which
    winners = [t for t, r in zip(attempts, responses, strict=True) if r.status_code == 200]
    assert len(winners) == 1
    [winner] = winners
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["details"]["current_state"] == winner
    assert Order.objects.get(pk=order.pk).status == winner
    new_records = AuditRecord.objects.filter(entity_id=order.pk).order_by("created_at")[
        audit_before:
    ]
    assert [(r.previous_state, r.new_state) for r in new_records] == [("PAID", winner)]
    assert [h.status for h in order.history.order_by("history_date")][-1] == winner
    assert order.history.exclude(status__in=["PENDING_PAYMENT", "PAID"]).count() == 1


def test_fifty_concurrent_creates_get_fifty_consecutive_numbers(transactional_db, users):
    # given
    clients = [api_client_for(users["Integrator"]) for _ in range(50)]

    # when
    responses = _race(clients, lambda c: c.post("/api/v1/orders", ORDER_PAYLOAD, format="json"))

    # then every create succeeded with its own number of this year, none skipped
    assert [r.status_code for r in responses] == [201] * 50
    numbers = sorted(r.json()["number"] for r in responses)
    year = timezone.now().year
    start = int(numbers[0].rsplit("-", 1)[1])
    assert numbers == [f"ORD-{year}-{n:06d}" for n in range(start, start + 50)]
    assert Order.objects.count() == 50
    assert AuditRecord.objects.filter(transition="create").count() == 50


@requires_postgres()
def test_twenty_concurrent_creates_with_one_idempotency_key_make_one_order(transactional_db, users):
    # given
    clients = [api_client_for(users["Integrator"]) for _ in range(20)]

    # when
    responses = _race(
        clients,
        lambda c: c.post(
            "/api/v1/orders", ORDER_PAYLOAD, format="json", HTTP_IDEMPOTENCY_KEY="cart-4711"
        ),
    )

    # then
    assert [r.status_code for r in responses] == [201] * 20
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    replayed = [r.get("Idempotent-Replayed") for r in responses]
    assert sorted(replayed, key=str) == [None] + ["true"] * 19
    assert Order.objects.count() == 1
    assert Order.objects.get().number == bodies[0]["number"]
    assert AuditRecord.objects.filter(transition="create").count() == 1
