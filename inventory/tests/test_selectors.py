"""The SKUs an order names are read with the stock they have available, in one statement: the
figure must be on hand minus allocated as stored, and an order's quick stock check (before it
takes a number) must agree with it."""

import uuid

from django.db import transaction

from catalogue.models import Sku
from inventory.models import StockLevel
from inventory.selectors import sku_by_codes_with_available, stock_covers
from inventory.services import StockLine, stock_allocate_rollback_unsafe


def _available(code: str) -> int:
    level = StockLevel.objects.get(sku__code=code)
    return level.on_hand - level.allocated


def test_skus_come_with_what_they_have_available(shop):
    # given: 2 of the 12 celadon vases are held by an order
    celadon = Sku.objects.get(code="Vase-Cel")
    with transaction.atomic():
        stock_allocate_rollback_unsafe(
            lines=[StockLine(index=0, sku_id=celadon.pk, quantity=2)],
            skus={celadon.pk: celadon},
            order_id=uuid.uuid4(),
            actor=None,
        )

    # when
    found = sku_by_codes_with_available(["vase-cel", "VASE-TEN", "rug-mto", "NO-SUCH"])

    # then
    assert set(found) == {"vase-cel", "vase-ten", "rug-mto"}
    sku, available = found["vase-cel"]
    assert sku == celadon and sku.product.name == "Hand-thrown vase"
    assert available == _available("Vase-Cel") == 10
    assert found["vase-ten"][1] == 3
    assert found["rug-mto"][1] == 0  # not tracked: a row that nothing allocates


def test_stock_covers_only_what_is_there(shop):
    # given
    found = sku_by_codes_with_available(["vase-cel", "vase-ten"])
    available = {sku.pk: count for sku, count in found.values()}
    celadon, tenmoku = found["vase-cel"][0].pk, found["vase-ten"][0].pk

    # then
    assert stock_covers({celadon: 12, tenmoku: 3}, available)
    assert not stock_covers({celadon: 12, tenmoku: 4}, available)
    assert not stock_covers({celadon: 1, "not-read": 1}, available)
    assert stock_covers({}, available)
