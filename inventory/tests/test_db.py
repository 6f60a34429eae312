"""What the database itself refuses, whatever client writes: negative stock, a second live
SKU code in another case, rewriting stock movements (PRODUCT.md "Catalogue and stock")."""

import pytest
from django.db import IntegrityError, connection, transaction

from catalogue.models import Sku
from catalogue.tests.conftest import category_make, product_make
from inventory.models import StockLevel, StockMovement

pytestmark = pytest.mark.empty_catalogue


@pytest.fixture
def stock(db):
    product_make("Cup", category_make("Shelf"), {"sku": "CUP-5", "price": "18.00", "on_hand": 5})


def level(code: str) -> tuple[int, int, int, int]:
    row = StockLevel.objects.get(sku__code=code)
    return row.on_hand, row.allocated, row.available, row.damaged


def assert_levels_equal_movements() -> None:
    for row in StockLevel.objects.all():
        moves = StockMovement.objects.filter(sku_id=row.sku_id)
        assert row.on_hand == sum(m.delta_on_hand for m in moves)
        assert row.allocated == sum(m.delta_allocated for m in moves)


# --- what the database refuses ---------------------------------------------------------------


def test_the_database_refuses_negative_available_or_allocated(stock):
    row = StockLevel.objects.get(sku__code="CUP-5")
    for change in ({"allocated": 6}, {"allocated": -1}, {"on_hand": -1}, {"damaged": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockLevel.objects.filter(pk=row.pk).update(**change)
    assert level("CUP-5") == (5, 0, 5, 0)


def test_a_live_code_is_unique_in_any_case_but_a_deleted_one_may_return(stock):
    cup = Sku.objects.get(code="CUP-5")
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.create(product=cup.product, code="cup-5", price=1)
    Sku.objects.filter(pk=cup.pk).update(deleted_at="2026-01-01T00:00:00Z")
    Sku.objects.create(product=cup.product, code="cup-5", price=1)  # allowed now


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE inventory_stockmovement SET delta_on_hand = 100",
        "DELETE FROM inventory_stockmovement",
    ],
)
def test_the_database_refuses_to_rewrite_movements(stock, sql):
    count = StockMovement.objects.count()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert StockMovement.objects.count() == count
    assert_levels_equal_movements()


def test_sqlite_refuses_insert_or_replace_of_a_movement(stock):
    if connection.vendor != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    movement = StockMovement.objects.first()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO inventory_stockmovement (id, sku_id, reason, "
                "delta_on_hand, delta_allocated, delta_damaged, on_hand, allocated, damaged, "
                "note, created_at) VALUES (%s, %s, 'ADJUSTED', 0, 0, 0, 0, 0, 0, '', "
                "'2026-01-01')",
                [movement.pk.hex, movement.sku_id.hex],
            )
    assert StockMovement.objects.get(pk=movement.pk).delta_on_hand == movement.delta_on_hand
