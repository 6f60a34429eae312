from collections.abc import Mapping

from django.db import connection
from django.db.models import F, QuerySet

from catalogue.models import Sku
from inventory.models import StockLevel, StockMovement


def stock_covers(wanted: Mapping) -> bool:
    """Whether available stock covers every {sku_id: quantity} now, read without a lock: a
    quick answer before an order takes its number, so an order refused for stock (the usual
    case) uses none. Only stock_allocate_rollback_unsafe decides."""
    if not wanted:
        return True
    key = StockLevel._meta.pk
    quote = connection.ops.quote_name
    column = {
        name: quote(StockLevel._meta.get_field(name).column) for name in ("on_hand", "allocated")
    }
    ids = list(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(key.column)}, {column['on_hand']} - {column['allocated']} "  # noqa: S608
            f"FROM {quote(StockLevel._meta.db_table)} "
            f"WHERE {quote(key.column)} IN ({', '.join(['%s'] * len(ids))})",
            [key.get_db_prep_value(sku_id, connection) for sku_id in ids],
        )
        available = {str(key.to_python(sku_id)): count for sku_id, count in cursor.fetchall()}
    return all(available.get(str(sku_id), 0) >= count for sku_id, count in wanted.items())


def sku_low_stock_list() -> QuerySet[Sku]:
    """The back-office low-stock queue: live, active, tracked SKUs whose available stock is at
    or below their threshold, the emptiest first (with product and stock read alongside)."""
    return (
        Sku.objects.live()
        .filter(active=True, track_inventory=True, product__deleted_at__isnull=True)
        .select_related("product", "stock")
        .annotate(available=F("stock__on_hand") - F("stock__allocated"))
        .filter(available__lte=F("low_stock_threshold"))
        .order_by("available", "code")
    )


def stock_movement_list() -> QuerySet[StockMovement]:
    """Movements, newest first, with their SKU and actor."""
    return StockMovement.objects.select_related("sku", "actor").order_by("-created_at", "-id")
