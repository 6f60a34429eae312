"""The low-stock queue on the warehouse and manager dashboards and in their sidebar: tracked SKUs
at or below their threshold, emptiest first, linked to the SKU list filtered the same way."""

from django.urls import reverse

from articurated.admin_nav import NavLink, links_may_view
from articurated.dashboard import Panel, QueueCount
from articurated.roles import MANAGER, WAREHOUSE, user_roles
from inventory.selectors import sku_low_stock_list

_SHOWN = 5


def _sees_stock(request) -> bool:
    return bool({WAREHOUSE, MANAGER} & user_roles(request.user))


def _low_stock_url() -> str:
    return f"{reverse('admin:catalogue_sku_changelist')}?stock=low"


def low_stock_panel(request) -> Panel | None:
    if not _sees_stock(request):
        return None
    skus = list(sku_low_stock_list()[:_SHOWN])
    rows = [
        QueueCount(
            f"{sku.code} · {sku.product.name}",
            f"{sku.available} left",
            reverse("admin:catalogue_sku_change", args=[sku.pk]),
            note=f"threshold {sku.low_stock_threshold}",
        )
        for sku in skus
    ]
    if rows:
        rows.append(
            QueueCount("All low-stock SKUs", sku_low_stock_list().count(), _low_stock_url())
        )
    return Panel("Low stock", rows=rows, empty="Every tracked SKU is above its threshold.")


def work_links(request) -> list[NavLink]:
    if not _sees_stock(request):
        return []
    return [NavLink("Low stock", _low_stock_url(), "inventory", sku_low_stock_list().count())]


_CATALOGUE_LINKS = [
    ("SKUs and stock", "admin:catalogue_sku_changelist", "sell", "catalogue.view_sku"),
    ("Stock movements", "admin:inventory_stockmovement_changelist", "swap_vert",
     "inventory.view_stockmovement"),
]  # fmt: skip


def catalogue_links(request) -> list[NavLink]:
    """The SKU list (inventory's admin: SKUs with their stock) and the movements."""
    return links_may_view(request, _CATALOGUE_LINKS)
