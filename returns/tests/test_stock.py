"""Stock through orders and returns (API.md "Orders", "Returns"; PRODUCT.md "Catalogue and
stock"), the stock endpoints, and what the database itself refuses."""

import pytest
from django.db import connection

from catalogue.models import Sku
from catalogue.tests.conftest import category_make, product_make
from conftest import ORDER_PAYLOAD, TEST_CONTEXT, order_make
from inventory.models import StockLevel, StockMovement
from inventory.selectors import sku_low_stock_list
from inventory.signals import stock_low
from orders.models import LineItem, Order
from orders.tests.helpers import assert_error, db_snapshot
from returns.tests.conftest import return_make

pytestmark = pytest.mark.empty_catalogue


@pytest.fixture
def stock(db):
    """A jar (one of a kind: 1 unit), cups (5 units, threshold 2), a print made to order."""
    shelf = category_make("Shelf")
    product_make("Moon jar", shelf, {"sku": "JAR-1", "price": "1200.00", "on_hand": 1})
    product_make("Cup", shelf, {"sku": "CUP-5", "price": "18.00", "on_hand": 5,
                                "low_stock_threshold": 2})  # fmt: skip
    product_make("Portrait", shelf, {"sku": "PRINT-MTO", "price": "150.00",
                                     "track_inventory": False})  # fmt: skip
    product_make("Euro cup", shelf, {"sku": "CUP-EU", "price": "17.00", "currency": "EUR",
                                     "on_hand": 5})  # fmt: skip
    product_make("Old cup", shelf, {"sku": "CUP-OLD", "price": "1.00", "on_hand": 5}, active=False)


def level(code: str) -> tuple[int, int, int, int]:
    row = StockLevel.objects.get(sku__code=code)
    return row.on_hand, row.allocated, row.available, row.damaged


def assert_levels_equal_movements() -> None:
    for row in StockLevel.objects.all():
        moves = StockMovement.objects.filter(sku_id=row.sku_id)
        assert row.on_hand == sum(m.delta_on_hand for m in moves)
        assert row.allocated == sum(m.delta_allocated for m in moves)
        assert row.damaged == sum(m.delta_damaged for m in moves)


def _order(api, *items, role="Integrator", **extra):
    payload = {**ORDER_PAYLOAD, "items": list(items), **extra}
    return api[role].post("/api/v1/orders", payload, format="json")


# --- orders ----------------------------------------------------------------------------------


def test_an_order_defaults_name_and_price_from_the_catalogue_and_allocates(api, stock):
    # when the storefront names the SKU in another case and sends no name or price
    response = _order(api, {"sku": "cup-5", "quantity": 2})

    # then
    assert response.status_code == 201, response.json()
    [item] = response.json()["items"]
    cup = Sku.objects.get(code="CUP-5")
    assert (item["sku"], item["sku_id"], item["name"], item["unit_price"]) == (
        "CUP-5", str(cup.pk), "Cup", "18.00",
    )  # fmt: skip
    assert level("CUP-5") == (5, 2, 3, 0)
    movement = StockMovement.objects.get(sku=cup, reason="ALLOCATED")
    assert (movement.delta_allocated, str(movement.order_id)) == (2, response.json()["id"])


def test_a_price_the_storefront_sent_is_kept(api, stock):
    response = _order(api, {"sku": "CUP-5", "quantity": 1, "unit_price": "15.00"})
    assert response.json()["items"][0]["unit_price"] == "15.00"


@pytest.mark.parametrize(
    ("item", "extra"),
    [
        ({"sku": "NOPE-1", "quantity": 1}, {}),
        ({"sku": "CUP-OLD", "quantity": 1}, {}),
        ({"sku": "CUP-EU", "quantity": 1}, {}),
        ({"sku": "CUP-5", "quantity": 1}, {"currency": "EUR"}),
    ],
    ids=["unknown", "inactive", "other-currency", "order-in-euros"],
)
def test_a_line_must_name_a_live_sku_in_the_orders_currency(api, stock, item, extra):
    # given
    before = db_snapshot()

    # when
    response = _order(api, {"sku": "CUP-5", "quantity": 1}, item, **extra)

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "items.1.sku" in error["details"]
    assert db_snapshot() == before
    assert level("CUP-5") == (5, 0, 5, 0)


def test_a_deleted_sku_cannot_be_ordered(api, stock):
    from catalogue.services import sku_delete

    sku = Sku.objects.get(code="JAR-1")
    sku_delete(sku_id=sku.pk, actor=None, context=TEST_CONTEXT, expected_version=None)
    response = _order(api, {"sku": "JAR-1", "quantity": 1})
    assert "items.0.sku" in assert_error(response, 400, "VALIDATION_ERROR")["details"]


def test_a_short_order_lists_every_short_line_and_writes_nothing(api, stock):
    # given
    before = db_snapshot()
    movements = StockMovement.objects.count()

    # when
    response = _order(
        api,
        {"sku": "JAR-1", "quantity": 2},
        {"sku": "PRINT-MTO", "quantity": 50},
        {"sku": "cup-5", "quantity": 6},
    )

    # then
    error = assert_error(response, 409, "INSUFFICIENT_STOCK")
    assert error["details"] == {
        "items": [
            {"index": 0, "sku": "JAR-1", "requested": 2, "available": 1},
            {"index": 2, "sku": "CUP-5", "requested": 6, "available": 5},
        ]
    }
    assert db_snapshot() == before
    assert StockMovement.objects.count() == movements
    assert (level("JAR-1"), level("CUP-5")) == ((1, 0, 1, 0), (5, 0, 5, 0))


def test_a_covered_line_allocates_nothing_when_another_is_short(api, stock):
    # given
    before = db_snapshot()

    # when JAR-1 covers its line and CUP-5 does not
    response = _order(api, {"sku": "JAR-1", "quantity": 1}, {"sku": "CUP-5", "quantity": 6})

    # then only the short line is named, and JAR-1's allocation is undone with the order
    items = assert_error(response, 409, "INSUFFICIENT_STOCK")["details"]["items"]
    assert items == [{"index": 1, "sku": "CUP-5", "requested": 6, "available": 5}]
    assert db_snapshot() == before
    assert (level("JAR-1"), level("CUP-5")) == ((1, 0, 1, 0), (5, 0, 5, 0))


def test_each_line_of_one_sku_gets_its_movement_with_the_levels_after_it(api, stock):
    # when one order takes CUP-5 in two lines, and JAR-1 between them
    response = _order(
        api,
        {"sku": "CUP-5", "quantity": 1},
        {"sku": "JAR-1", "quantity": 1},
        {"sku": "CUP-5", "quantity": 2},
    )

    # then one ALLOCATED movement per line, in line order, each with the levels after it
    assert response.status_code == 201, response.json()
    moves = StockMovement.objects.filter(order_id=response.json()["id"], reason="ALLOCATED")
    cup = [(m.delta_allocated, m.on_hand, m.allocated) for m in moves if m.sku.code == "CUP-5"]
    assert sorted(cup) == [(1, 5, 1), (2, 5, 3)]
    assert [(m.on_hand, m.allocated) for m in moves if m.sku.code == "JAR-1"] == [(1, 1)]
    assert (level("CUP-5"), level("JAR-1")) == ((5, 3, 2, 0), (1, 1, 0, 0))
    assert_levels_equal_movements()


def test_two_lines_of_one_sku_are_counted_together(api, stock):
    response = _order(api, {"sku": "CUP-5", "quantity": 3}, {"sku": "CUP-5", "quantity": 3})
    items = assert_error(response, 409, "INSUFFICIENT_STOCK")["details"]["items"]
    assert [item["index"] for item in items] == [0, 1]


def test_the_last_unit_sells_once(api, stock):
    first = _order(api, {"sku": "JAR-1", "quantity": 1})
    second = _order(api, {"sku": "JAR-1", "quantity": 1})
    assert first.status_code == 201
    assert_error(second, 409, "INSUFFICIENT_STOCK")
    assert level("JAR-1") == (1, 1, 0, 0)


def test_cancel_releases_and_ship_consumes(stock):
    # given
    items = [{"sku": "CUP-5", "quantity": 2}, {"sku": "PRINT-MTO", "quantity": 1}]
    order_make("CANCELLED", items=items)
    assert level("CUP-5") == (5, 0, 5, 0)

    # when
    shipped = order_make("SHIPPED", items=items)

    # then
    assert level("CUP-5") == (3, 0, 3, 0)
    reasons = list(
        StockMovement.objects.filter(order_id=shipped.pk).order_by("created_at")
        .values_list("reason", flat=True)
    )  # fmt: skip
    assert reasons == ["ALLOCATED", "SHIPPED"]
    assert StockLevel.objects.get(sku__code="PRINT-MTO").on_hand == 0
    assert_levels_equal_movements()


@pytest.mark.parametrize(("restock", "expected"), [(True, (4, 0, 4, 0)), (False, (3, 0, 3, 1))])
def test_a_received_return_restocks_or_counts_damaged(api, stock, restock, expected):
    # given a delivered order of 2 cups, one coming back
    order = order_make("DELIVERED", items=[{"sku": "CUP-5", "quantity": 2}])
    line = LineItem.objects.get(order=order)
    return_obj = return_make("IN_TRANSIT", order=order,
                             items=[{"line_item_id": line.pk, "quantity": 1}])  # fmt: skip

    # when the warehouse receives it through the API
    response = api["Warehouse"].patch(
        f"/api/v1/returns/{return_obj.pk}/state",
        {"new_state": "RECEIVED", "inspection_note": "chipped", "restock": restock},
        format="json",
    )

    # then
    assert response.status_code == 200, response.json()
    assert level("CUP-5") == expected
    movement = StockMovement.objects.get(return_id=return_obj.pk)
    assert movement.reason == ("RETURNED" if restock else "DAMAGED")
    assert_levels_equal_movements()


def test_restock_defaults_to_true_and_must_be_a_boolean(api, stock):
    order = order_make("DELIVERED", items=[{"sku": "CUP-5", "quantity": 1}])
    return_obj = return_make("IN_TRANSIT", order=order)
    url = f"/api/v1/returns/{return_obj.pk}/state"

    refused = api["Warehouse"].patch(url, {"new_state": "RECEIVED", "restock": "no"})
    received = api["Warehouse"].patch(url, {"new_state": "RECEIVED"})

    assert "restock" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]
    assert received.status_code == 200
    assert level("CUP-5") == (5, 0, 5, 0)


# --- stock endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Warehouse", "Manager"])
def test_warehouse_and_managers_set_and_adjust_stock_with_a_reason(api, stock, role, users):
    # given
    cup = Sku.objects.get(code="CUP-5")
    url = f"/api/v1/skus/{cup.pk}/stock"

    # when
    counted = api[role].post(url, {"on_hand": 12, "reason": "stock take"})
    received = api[role].post(url, {"delta": -2, "reason": "two broke"})

    # then
    assert counted.status_code == 200, counted.json()
    assert counted.json()["stock"] == {"on_hand": 12, "allocated": 0, "available": 12,
                                       "damaged": 0}  # fmt: skip
    assert received.json()["stock"]["on_hand"] == 10
    notes = StockMovement.objects.filter(sku=cup, reason="ADJUSTED", actor=users[role])
    assert sorted(notes.values_list("note", "delta_on_hand")) == [
        ("stock take", 7), ("two broke", -2),
    ]  # fmt: skip
    assert_levels_equal_movements()


@pytest.mark.parametrize("role", ["Support", "Integrator"])
def test_other_roles_may_not_change_stock(api, stock, role):
    cup = Sku.objects.get(code="CUP-5")
    response = api[role].post(f"/api/v1/skus/{cup.pk}/stock", {"delta": 1, "reason": "x"})
    assert_error(response, 403, "PERMISSION_DENIED")
    assert level("CUP-5") == (5, 0, 5, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"on_hand": 3},
        {"delta": 1, "reason": ""},
        {"on_hand": "3", "reason": "x"},
        {"on_hand": 3, "delta": 1, "reason": "x"},
        {"on_hand": -1, "reason": "x"},
        {"reason": "x"},
    ],
)
def test_bad_stock_changes_are_400(api, stock, body):
    cup = Sku.objects.get(code="CUP-5")
    response = api["Warehouse"].post(f"/api/v1/skus/{cup.pk}/stock", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert level("CUP-5") == (5, 0, 5, 0)


def test_on_hand_never_falls_below_what_orders_hold(api, stock):
    # given an order holds 3 cups
    order_make(items=[{"sku": "CUP-5", "quantity": 3}])
    cup = Sku.objects.get(code="CUP-5")
    url = f"/api/v1/skus/{cup.pk}/stock"
    movements = StockMovement.objects.count()

    # when
    set_low = api["Manager"].post(url, {"on_hand": 2, "reason": "recount"})
    adjust_low = api["Manager"].post(url, {"delta": -3, "reason": "breakage"})

    # then
    for response in (set_low, adjust_low):
        assert assert_error(response, 409, "STOCK_BELOW_ALLOCATED")["details"] == {"allocated": 3}
    assert level("CUP-5") == (5, 3, 2, 0)
    assert StockMovement.objects.count() == movements


def test_movements_are_for_staff_newest_first_with_filters(api, stock):
    # given
    order = order_make(items=[{"sku": "CUP-5", "quantity": 1}])
    cup = Sku.objects.get(code="CUP-5")

    # when
    by_order = api["Support"].get("/api/v1/stock-movements", {"order_id": str(order.pk)})
    by_sku = api["Warehouse"].get("/api/v1/stock-movements", {"sku_id": str(cup.pk)})
    by_reason = api["Manager"].get("/api/v1/stock-movements", {"reason": "ALLOCATED"})

    # then
    [allocated] = by_order.json()["results"]
    assert {k: allocated[k] for k in ("sku", "reason", "delta_on_hand", "delta_allocated",
                                       "on_hand", "allocated")} == {
        "sku": "CUP-5", "reason": "ALLOCATED", "delta_on_hand": 0, "delta_allocated": 1,
        "on_hand": 5, "allocated": 1,
    }  # fmt: skip
    assert [m["reason"] for m in by_sku.json()["results"]] == ["ALLOCATED", "ADJUSTED"]
    assert by_reason.json()["count"] == 1
    assert_error(api["Integrator"].get("/api/v1/stock-movements"), 403, "PERMISSION_DENIED")
    for query in ({"reason": "STOLEN"}, {"created_after": ""}, {"sku_id": "x"}):
        assert_error(api["Manager"].get("/api/v1/stock-movements", query), 400, "VALIDATION_ERROR")


# --- low stock -------------------------------------------------------------------------------


def test_reaching_the_threshold_sends_stock_low_once_and_queues_the_sku(stock):
    # given
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["sku"].code, kwargs["available"], kwargs["threshold"]))

    stock_low.connect(receiver)
    try:
        # when available goes 5 → 3 (above the threshold of 2), 3 → 1 (crossing it), 1 → 0
        for quantity in (2, 2, 1):
            order_make(items=[{"sku": "CUP-5", "quantity": quantity}])
    finally:
        stock_low.disconnect(receiver)

    # then
    assert received == [("CUP-5", 1, 2)]
    assert "CUP-5" in [sku.code for sku in sku_low_stock_list()]
    assert "PRINT-MTO" not in [sku.code for sku in sku_low_stock_list()]


def test_orders_existing_before_the_catalogue_are_linked_by_code(stock):
    import importlib

    # given a line written before the catalogue, with a code in another case
    order = order_make(items=[{"sku": "CUP-5", "quantity": 1}])
    LineItem.objects.filter(order=order).update(catalogue_sku=None, sku="cup-5")
    orphan = order_make(items=[{"sku": "JAR-1", "quantity": 1}])
    LineItem.objects.filter(order=orphan).update(catalogue_sku=None, sku="GONE-1")
    migration = importlib.import_module("orders.migrations.0003_link_lines_to_skus")

    # when
    migration.lines_link(connection)

    # then
    assert LineItem.objects.get(order=order).catalogue_sku.code == "CUP-5"
    assert LineItem.objects.get(order=orphan).catalogue_sku is None
    assert Order.objects.count() == 2


def test_the_admin_receives_a_return_as_damaged(client, users, stock):
    from django.urls import reverse

    # given
    order = order_make("DELIVERED", items=[{"sku": "CUP-5", "quantity": 1}])
    return_obj = return_make("IN_TRANSIT", order=order)
    client.force_login(users["Warehouse"])
    url = reverse("admin:returns_return_transition", args=[return_obj.pk, "receive"])

    # when the restock box is left unticked
    response = client.post(url, {"inspection_note": "shattered"}, follow=True)

    # then
    assert response.status_code == 200
    assert level("CUP-5") == (4, 0, 4, 1)
    assert StockMovement.objects.get(return_id=return_obj.pk).reason == "DAMAGED"
