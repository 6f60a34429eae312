"""Stock races (QUALITY.md "Reliability bars: Stock"): API clients in threads, one database
connection each, real transactions and row locks on PostgreSQL."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalogue.models import Sku
from catalogue.tests.conftest import category_make, product_make
from conftest import ORDER_PAYLOAD, api_client_for, requires_postgres
from inventory.models import StockLevel, StockMovement
from orders.models import Order

pytestmark = [requires_postgres(), pytest.mark.empty_catalogue]


def _race(clients, request):
    """Calls `request(client)` for every client in its own thread, all released at once."""
    barrier = threading.Barrier(len(clients))

    def run(client):
        try:
            barrier.wait(timeout=60)
            return request(client)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(run, client) for client in clients]
        return [future.result(timeout=300) for future in futures]


def _order_body(*lines):
    return {**ORDER_PAYLOAD, "items": [{"sku": code, "quantity": q} for code, q in lines]}


def test_twenty_orders_for_the_last_five_units_five_win(transactional_db, users):
    # given
    product_make("Moon jar", category_make("Ceramics"), {"sku": "JAR", "on_hand": 5})
    clients = [api_client_for(users["Integrator"]) for _ in range(20)]

    # when
    responses = _race(
        clients, lambda c: c.post("/api/v1/orders", _order_body(("JAR", 1)), format="json")
    )

    # then
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    level = StockLevel.objects.get(sku__code="JAR")
    assert (level.on_hand, level.allocated, level.available) == (5, 5, 0)
    assert Order.objects.count() == 5
    # available never went below zero: every movement's levels stayed within on hand
    moves = StockMovement.objects.filter(sku__code="JAR", reason="ALLOCATED")
    assert sorted(m.allocated for m in moves) == [1, 2, 3, 4, 5]
    assert all(m.on_hand - m.allocated >= 0 for m in moves)


def test_two_hundred_orders_over_random_pairs_never_deadlock(transactional_db, users):
    # given 10 SKUs with plenty of stock
    shelf = category_make("Shelf")
    codes = [f"SKU-{n:02d}" for n in range(10)]
    for code in codes:
        product_make(code, shelf, {"sku": code, "on_hand": 1000})
    rng = random.Random(10)
    # 200 orders, each two distinct SKUs in random order; every third one is cancelled after
    plans = [rng.sample(codes, 2) for _ in range(200)]
    per_thread = 10
    batches = [plans[i : i + per_thread] for i in range(0, len(plans), per_thread)]
    clients = [api_client_for(users["Manager"]) for _ in batches]

    def place(client, batch):
        statuses = []
        for index, pair in enumerate(batch):
            response = client.post(
                "/api/v1/orders", _order_body((pair[0], 1), (pair[1], 2)), format="json"
            )
            statuses.append(response.status_code)
            if response.status_code == 201 and index % 3 == 0:
                cancel = client.patch(
                    f"/api/v1/orders/{response.json()['id']}/state",
                    {"new_state": "CANCELLED", "reason": "drill"},
                    format="json",
                )
                statuses.append(cancel.status_code)
        return statuses

    # when
    work = iter(batches)
    lock = threading.Lock()

    def next_batch_for(client):
        with lock:
            batch = next(work)
        return place(client, batch)

    results = _race(clients, next_batch_for)

    # then every request succeeded (a deadlock would have been a 500)
    assert {status for statuses in results for status in statuses} == {200, 201}
    assert Order.objects.count() == 200
    cancelled = Order.objects.filter(status="CANCELLED").count()
    assert cancelled == sum(len(range(0, len(batch), 3)) for batch in batches)
    for level in StockLevel.objects.filter(sku__code__in=codes):
        moves = StockMovement.objects.filter(sku_id=level.sku_id)
        assert level.on_hand == sum(m.delta_on_hand for m in moves) == 1000
        assert level.allocated == sum(m.delta_allocated for m in moves) >= 0
    live = Order.objects.exclude(status="CANCELLED")
    held = sum(line.quantity for order in live for line in order.items.all())
    assert (
        sum(StockLevel.objects.filter(sku__code__in=codes).values_list("allocated", flat=True))
        == held
    )


def test_two_patches_with_the_same_if_match_one_wins(transactional_db, users):
    # given
    product_make("Vase", category_make("Ceramics"), {"sku": "VASE-X", "price": "40.00"})
    sku = Sku.objects.get(code="VASE-X")
    clients = [api_client_for(users["Manager"]) for _ in range(2)]
    prices = iter(["41.00", "42.00"])
    lock = threading.Lock()

    def patch(client):
        with lock:
            price = next(prices)
        return client.patch(
            f"/api/v1/skus/{sku.pk}", {"price": price}, format="json", HTTP_IF_MATCH='"1"'
        )

    # when
    responses = _race(clients, patch)

    # then
    assert sorted(r.status_code for r in responses) == [200, 412]
    [winner] = [r for r in responses if r.status_code == 200]
    [loser] = [r for r in responses if r.status_code == 412]
    assert loser.json()["error"]["details"] == {"current_version": 2}
    sku.refresh_from_db()
    assert (sku.version, str(sku.price)) == (2, winner.json()["price"])
    assert sku.history.count() == 2
