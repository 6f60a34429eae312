"""Catalogue and stock events reach real receivers on 127.0.0.1 (signatures verified with the
`standardwebhooks` library) with the body GET returned at that moment: `product.*` and
`category.*` with the product or category body, one `products.bulk_deleted` summary per bulk
delete, `stock.low` with the SKU body once per crossing of the threshold."""

import json
from collections import Counter

import pytest

from catalogue.services import (
    category_update,
    product_delete,
    product_restore,
    product_update,
    sku_create,
    sku_update,
)
from catalogue.tests.conftest import category_make, product_make
from conftest import TEST_CONTEXT
from inventory.services import stock_adjust
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCT_EVENTS = ["product.created", "product.updated", "product.deleted", "product.restored"]


def _of_type(target, event_type: str) -> list[dict]:
    return [r.event for r in target.received if r.event["type"] == event_type]


def _price_of(data: dict, code: str) -> str | None:
    return next((s["price"] for s in data["skus"] if s["sku"] == code), None)


def test_product_events_arrive_with_the_product_body_of_that_moment(
    receiver, endpoint_for, jobs, users, api
):
    # given an endpoint subscribed to the product events and one to orders only
    products, orders = receiver(), receiver()
    endpoint_for(products, events=PRODUCT_EVENTS)
    endpoint_for(orders, events=["order.created"])
    manager = users["Manager"]

    # when a product is created with two SKUs, renamed, given a third SKU, repriced, deleted
    # and restored
    vases = category_make("Vases", category_make("Ceramics"))
    vase = product_make(
        "Hand-thrown vase", vases,
        {"sku": "EV-CEL", "on_hand": 12, "low_stock_threshold": 2},
        {"sku": "EV-TEN", "on_hand": 3},
    )  # fmt: skip
    product_update(product_id=vase.pk, actor=manager, context=TEST_CONTEXT, expected_version=1,
                   name="Thrown vase")  # fmt: skip
    added = sku_create(actor=manager, context=TEST_CONTEXT, product_id=vase.pk, sku="EV-ASH",
                       price="55.00", on_hand=4)  # fmt: skip
    sku_update(sku_id=added.pk, actor=manager, context=TEST_CONTEXT, expected_version=1,
               price="60.00")  # fmt: skip
    product_delete(product_id=vase.pk, actor=manager, context=TEST_CONTEXT, expected_version=2)
    product_restore(product_id=vase.pk, actor=manager, context=TEST_CONTEXT)
    jobs.drain()

    # then one event per change, verified, each with the product as it was then
    assert not products.rejected
    assert Counter(r.event["type"] for r in products.received) == {
        "product.created": 1,  # its SKUs came with it: no product.updated for them
        "product.updated": 3,
        "product.deleted": 1,
        "product.restored": 1,
    }
    (created,) = _of_type(products, "product.created")
    assert created["data"]["id"] == str(vase.pk)
    assert created["data"]["name"] == "Hand-thrown vase"
    assert created["data"]["category"]["path"] == "Ceramics / Vases"
    assert {s["sku"]: s["stock"]["on_hand"] for s in created["data"]["skus"]} == {
        "EV-CEL": 12,
        "EV-TEN": 3,
    }
    updated = [e["data"] for e in _of_type(products, "product.updated")]
    assert {data["name"] for data in updated} == {"Thrown vase"}
    # the rename (two SKUs), the new SKU with its opening stock, then its new price
    assert sorted(_price_of(data, "EV-ASH") or "none" for data in updated) == [
        "55.00", "60.00", "none",
    ]  # fmt: skip
    sku_added = next(data for data in updated if _price_of(data, "EV-ASH") == "55.00")
    assert next(s for s in sku_added["skus"] if s["sku"] == "EV-ASH")["stock"]["on_hand"] == 4
    (deleted,) = _of_type(products, "product.deleted")
    assert deleted["data"]["deleted_at"] is not None
    assert {s["sku"] for s in deleted["data"]["skus"]} == {"EV-CEL", "EV-TEN", "EV-ASH"}
    # and the last one is exactly what GET answers now
    (restored,) = _of_type(products, "product.restored")
    answer = api["Integrator"].get(f"/api/v1/products/{vase.pk}")
    assert restored["data"] == json.loads(answer.content)
    # and the endpoint subscribed to orders got none of it
    assert orders.received == []


def test_category_events_carry_the_category_body(receiver, endpoint_for, jobs, users):
    # given
    target = receiver()
    endpoint_for(target, events=["category.created", "category.updated"])

    # when a category is created under another, then renamed
    ceramics = category_make("Ceramics")
    vases = category_make("Vases", ceramics)
    category_update(category_id=vases.pk, actor=users["Manager"], context=TEST_CONTEXT,
                    expected_version=1, name="Vessels")  # fmt: skip
    jobs.drain()

    # then
    updated = [r.event["data"] for r in target.received if r.event["type"] == "category.updated"]
    assert [data["path"] for data in updated] == ["Ceramics / Vessels"]
    created = {r.event["data"]["name"] for r in target.received
               if r.event["type"] == "category.created"}  # fmt: skip
    assert created == {"Ceramics", "Vases"}


def test_a_bulk_delete_is_one_summary_event_not_one_per_product(receiver, endpoint_for, jobs, api):
    # given three products and an endpoint subscribed to everything
    shelf = category_make("Shelf")
    made = [product_make(f"Cup {n}", shelf, {"sku": f"BD-{n}"}) for n in range(3)]
    live_before = Event.objects.count()
    target = receiver()
    endpoint_for(target)

    # when a manager deletes two of them by id, then everything else
    ids = sorted(str(p.pk) for p in made[:2])
    first = api["Manager"].post(
        "/api/v1/products/bulk-delete", {"ids": ids, "confirm": True}, format="json"
    )
    second = api["Manager"].post(
        "/api/v1/products/bulk-delete", {"all": True, "confirm": True}, format="json"
    )
    jobs.drain()

    # then two events arrived, one per bulk delete, with the count and the selection
    assert (first.json(), second.json()["deleted"] > 1) == ({"deleted": 2}, True)
    assert not target.rejected
    events = sorted((r.event for r in target.received), key=lambda e: e["data"]["deleted_at"])
    assert [e["type"] for e in events] == ["products.bulk_deleted", "products.bulk_deleted"]
    assert events[0]["data"]["deleted"] == 2
    assert events[0]["data"]["selection"] == {"ids": ids}
    assert events[1]["data"] == {
        "deleted": second.json()["deleted"],
        "deleted_at": events[1]["data"]["deleted_at"],
        "selection": {"all": True},
    }
    # and nothing per product
    assert Event.objects.count() == live_before + 2
    assert not Event.objects.filter(type="product.deleted").exists()


def test_stock_low_is_sent_once_when_available_stock_crosses_the_threshold(
    receiver, endpoint_for, jobs, users
):
    # given a SKU with 5 on hand and a threshold of 2, and endpoints for stock.low and not
    low, other = receiver(), receiver()
    endpoint_for(low, events=["stock.low"])
    endpoint_for(other, events=["product.updated"])
    product = product_make("Bowl", category_make("Bowls"),
                           {"sku": "LOW-1", "on_hand": 5, "low_stock_threshold": 2})  # fmt: skip
    sku = product.skus.get()

    # when the warehouse takes units out one step at a time: 3 left, 2 (the threshold), 1
    for delta in (-2, -1, -1):
        stock_adjust(sku_id=sku.pk, delta=delta, reason="breakage", actor=users["Warehouse"],
                     context=TEST_CONTEXT)  # fmt: skip
    jobs.drain()

    # then one stock.low, when it reached the threshold, with the SKU body of that moment
    assert not low.rejected
    (received,) = low.received
    assert received.event["type"] == "stock.low"
    data = received.event["data"]
    assert (data["id"], data["sku"], data["low_stock_threshold"]) == (str(sku.pk), "LOW-1", 2)
    assert data["stock"] == {"on_hand": 2, "allocated": 0, "available": 2, "damaged": 0}
    assert other.received == []

    # when it is restocked above the threshold and falls to it again
    for delta in (10, -10):
        stock_adjust(sku_id=sku.pk, delta=delta, reason="count", actor=users["Warehouse"],
                     context=TEST_CONTEXT)  # fmt: skip
    jobs.drain()

    # then that is a second crossing: a second event
    assert len(low.received) == 2
    assert Event.objects.filter(type="stock.low").count() == 2
