from django.db.models import Count
from django.urls import reverse

from articurated.dashboard import Panel, QueueCount
from orders.models import Order, OrderStatus


def orders_panel(request) -> Panel | None:
    if not request.user.has_perm("orders.view_order"):
        return None
    counts = dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by())
    url = reverse("admin:orders_order_changelist")
    return Panel(
        "Orders by state",
        [
            QueueCount(status.label, counts.get(status.value, 0), f"{url}?status__exact={status}")
            for status in OrderStatus
        ],
    )


def warehouse_panel(request) -> Panel | None:
    if not request.user.has_perm("orders.view_order"):
        return None
    url = reverse("admin:orders_order_changelist")
    paid = Order.objects.filter(status=OrderStatus.PAID).count()
    processing = Order.objects.filter(status=OrderStatus.PROCESSING_IN_WAREHOUSE).count()
    return Panel(
        "Warehouse",
        [
            QueueCount("To process (paid)", paid, f"{url}?status__exact=PAID"),
            QueueCount(
                "To ship (in warehouse)", processing, f"{url}?status__exact=PROCESSING_IN_WAREHOUSE"
            ),
        ],
    )
