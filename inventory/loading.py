"""Set-based loading of a catalogue with stock: test fixtures, benches and demo data.

Five INSERTs however many rows (categories, products, SKUs, stock levels, IMPORTED
movements), so a bench can create thousands of tracked SKUs with plenty of stock in a
moment. It bypasses the per-row history and audit of catalogue/services.py on purpose (like a
bulk import); stock still gets its movements, so levels equal their sums.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from catalogue.models import Category, Product, Sku
from inventory.models import MovementReason, StockLevel, StockMovement


@transaction.atomic
def sku_bulk_load(
    *, rows: Sequence[Mapping[str, Any]], category_name: str = "Loaded", import_id=None
) -> list[Sku]:
    """rows: {"sku", "name", "price", "currency"="USD", "on_hand"=0, "track_inventory"=True,
    "low_stock_threshold"=0, "attributes"={}}; one product per row, all in one root category
    named `category_name` (created if missing). Returns the SKUs."""
    category = Category.objects.live().filter(name=category_name, parent=None).first()
    if category is None:
        category = Category(name=category_name)
        category.tree_path = f"/{category.pk.hex}/"
        category.save()
    products, skus, levels, movements = [], [], [], []
    for row in rows:
        product = Product(name=row.get("name") or row["sku"], category=category)
        sku = Sku(
            product=product,
            code=row["sku"],
            price=Decimal(str(row.get("price", "10.00"))),
            currency=row.get("currency", "USD"),
            attributes=row.get("attributes") or {},
            track_inventory=row.get("track_inventory", True),
            low_stock_threshold=row.get("low_stock_threshold", 0),
        )
        on_hand = int(row.get("on_hand", 0))
        products.append(product)
        skus.append(sku)
        levels.append(StockLevel(sku=sku, on_hand=on_hand))
        if on_hand:
            movements.append(
                StockMovement(
                    sku=sku,
                    reason=MovementReason.IMPORTED,
                    delta_on_hand=on_hand,
                    on_hand=on_hand,
                    allocated=0,
                    import_id=import_id,
                    note="bulk load",
                )
            )
    Product.objects.bulk_create(products)
    Sku.objects.bulk_create(skus)
    StockLevel.objects.bulk_create(levels)
    StockMovement.objects.bulk_create(movements)
    return skus
