from collections.abc import Mapping

from django.db import connection
from django.db.models import F, QuerySet

from catalogue.models import Sku
from catalogue.selectors import sku_rows_by_codes
from inventory.models import StockLevel, StockMovement


def sku_by_codes_with_available(codes) -> dict[str, tuple[Sku, int | None]]:
    """catalogue's sku_by_codes, each SKU with its available stock (on hand - allocated; None
    without a stock row), read in the same statement and without a lock: for stock_covers,
    before an order takes its number. Only stock_allocate_rollback_unsafe decides."""
    quote = connection.ops.quote_name
    level = StockLevel._meta
    on_hand, allocated = (quote(level.get_field(name).column) for name in ("on_hand", "allocated"))
    return sku_rows_by_codes(
        codes,
        extra=(
            f"(SELECT s.{on_hand} - s.{allocated} FROM {quote(level.db_table)} s "  # noqa: S608
            f"WHERE s.{quote(level.pk.column)} = m.{quote(Sku._meta.pk.column)})"
        ),
    )


def stock_covers(wanted: Mapping, available: Mapping) -> bool:
    """Whether the `available` stock read with the SKUs ({sku_id: count or None}) covers every
    {sku_id: quantity} `wanted`: a quick answer before an order takes its number, so an order
    refused for stock (the usual case) uses none."""
    return all((available.get(sku_id) or 0) >= count for sku_id, count in wanted.items())


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
