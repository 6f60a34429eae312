from django.db.models import F, QuerySet

from catalogue.models import Sku
from inventory.models import StockMovement


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
