"""Races on PostgreSQL, with real row locks and one connection per thread."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django.db.models import Sum

from articurated.errors import DomainError, InvalidTransition
from audit.models import AuditRecord
from conftest import TEST_CONTEXT, api_client_for, order_make, requires_postgres
from orders.models import LineItem
from returns.models import Return, ReturnLine, ReturnStatus
from returns.services import return_approve, return_create


def _race(count: int, work):
    """Runs `work()` in `count` threads released together; returns results or errors."""
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait(timeout=30)
            return work()
        except DomainError as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result() for f in [pool.submit(run) for _ in range(count)]]


@requires_postgres()
def test_two_returns_never_take_more_units_than_were_ordered(transactional_db, users):
    # given a delivered order of 3 bowls, and two clients each returning 2 of them
    order = order_make(
        "DELIVERED",
        items=[{"sku": "BOWL-02", "name": "Glazed bowl", "quantity": 3, "unit_price": "20.00"}],
    )
    line = LineItem.objects.get(order=order)
    body = {
        "order_id": str(order.pk),
        "reason": "DAMAGED",
        "items": [{"line_item_id": str(line.pk), "quantity": 2}],
    }
    clients = iter([api_client_for(users["Integrator"]), api_client_for(users["Support"])])
    lock = threading.Lock()

    def open_return():
        with lock:
            client = next(clients)
        response = client.post("/api/v1/returns", body, format="json")
        return response.status_code, response.json()

    # when both post at once
    results = _race(2, open_return)

    # then one is created, the other refused under `items`, and no unit is returned twice
    assert sorted(status for status, _ in results) == [201, 400]
    refused = next(body for status, body in results if status == 400)
    assert list(refused["error"]["details"]) == ["items.0.quantity"]
    assert Return.objects.count() == 1
    assert ReturnLine.objects.aggregate(units=Sum("quantity"))["units"] == 2
    assert LineItem.objects.get(pk=line.pk).returned_quantity == 2


@requires_postgres()
def test_fifty_concurrent_approvals_approve_once(transactional_db, users):
    # given one requested return
    order = order_make("DELIVERED")
    return_obj = return_create(actor=None, context=TEST_CONTEXT, order_id=order.pk, reason="OTHER")
    manager = users["Manager"]

    def approve():
        return return_approve(return_id=return_obj.pk, actor=manager, context=TEST_CONTEXT)

    # when 50 approvals arrive at once
    results = _race(50, approve)

    # then exactly one succeeds, the others are invalid transitions, and one is recorded
    approved = [r for r in results if isinstance(r, Return)]
    refused = [r for r in results if not isinstance(r, Return)]
    assert len(approved) == 1
    assert len(refused) == 49
    assert all(isinstance(r, InvalidTransition) for r in refused)
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.APPROVED
    assert AuditRecord.objects.filter(entity_id=return_obj.pk, transition="approve").count() == 1
