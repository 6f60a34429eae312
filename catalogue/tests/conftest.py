"""A small catalogue built through the real services, on top of the root fixtures."""

import pytest
from django.core.cache import cache

from conftest import TEST_CONTEXT


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def category_make(name: str, parent=None):
    from catalogue.services import category_create

    return category_create(
        actor=None, context=TEST_CONTEXT, name=name, parent_id=parent.pk if parent else None
    )


def product_make(name: str, category, *skus: dict, **fields):
    from catalogue.services import product_create

    return product_create(
        actor=None,
        context=TEST_CONTEXT,
        name=name,
        category_id=category.pk,
        skus=[{"price": "10.00", "currency": "USD", **sku} for sku in skus],
        **fields,
    )


@pytest.fixture
def shop(db):
    """Ceramics / Vases (a celadon and a tenmoku vase) and Textiles (a rug, not tracked)."""
    ceramics = category_make("Ceramics")
    vases = category_make("Vases", ceramics)
    textiles = category_make("Textiles")
    vase = product_make(
        "Hand-thrown vase",
        vases,
        {"sku": "Vase-Cel", "price": "49.50", "attributes": {"glaze": "celadon"}, "on_hand": 12,
         "low_stock_threshold": 2},
        {"sku": "VASE-TEN", "price": "52.00", "attributes": {"glaze": "tenmoku"}, "on_hand": 3},
        description="Stoneware, thrown on the wheel",
        attributes={"maker": "Studio Oka"},
    )  # fmt: skip
    rug = product_make(
        "Woven rug", textiles, {"sku": "RUG-MTO", "price": "240.00", "track_inventory": False}
    )
    return {"ceramics": ceramics, "vases": vases, "textiles": textiles, "vase": vase, "rug": rug}
