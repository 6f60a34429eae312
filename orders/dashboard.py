"""What orders contribute to the admin index (dashboard per role) and the sidebar."""

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse

from articurated.admin_nav import NavLink
from articurated.dashboard import Chart, Panel, QueueCount, age_text, last_days
from articurated.roles import MANAGER, SUPPORT, WAREHOUSE, user_roles
from orders.models import Order, OrderStatus

S = OrderStatus
LIST_LENGTH = 5


def _changelist() -> str:
    return reverse("admin:orders_order_changelist")


def order_status_counts(request) -> dict[str, int]:
    """Orders per state, counted once per request (sidebar badges and dashboard share it)."""
    counts = getattr(request, "_order_status_counts", None)
    if counts is None:
        counts = dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by())
        request._order_status_counts = counts
    return counts


def orders_panel(request) -> Panel | None:
    """Counts per state: the manager's overview."""
    if MANAGER not in user_roles(request.user):
        return None
    counts = order_status_counts(request)
    return Panel(
        "Orders by state",
        [
            QueueCount(
                status.label, counts.get(status.value, 0), f"{_changelist()}?status__exact={status}"
            )
            for status in OrderStatus
        ],
    )


def warehouse_panel(request) -> Panel | None:
    if WAREHOUSE not in user_roles(request.user):
        return None
    counts = order_status_counts(request)
    return Panel(
        "Warehouse",
        [
            QueueCount(
                "To process (paid)", counts.get(S.PAID, 0), f"{_changelist()}?status__exact=PAID"
            ),
            QueueCount(
                "To ship (in warehouse)",
                counts.get(S.PROCESSING_IN_WAREHOUSE, 0),
                f"{_changelist()}?status__exact=PROCESSING_IN_WAREHOUSE",
            ),
        ],
    )


def support_search_panel(request) -> Panel | None:
    if SUPPORT not in user_roles(request.user):
        return None
    return Panel(
        "Find an order",
        search_url=_changelist(),
        search_hint="Number (000012 or ORD-2026-000012), e-mail, customer name or tracking number",
    )


def _order_row(order: Order, since) -> QueueCount:
    return QueueCount(
        f"{order.number} · {order.customer_name} · {order.total_amount} {order.currency}",
        age_text(since),
        reverse("admin:orders_order_change", args=[order.pk]),
        note=order.cancellation_reason or "",
    )


def waiting_for_payment_panel(request) -> Panel | None:
    if SUPPORT not in user_roles(request.user):
        return None
    oldest = Order.objects.filter(status=S.PENDING_PAYMENT).order_by("created_at")[:LIST_LENGTH]
    return Panel(
        "Waiting for payment longest",
        [_order_row(order, order.created_at) for order in oldest]
        + [
            QueueCount(
                "All orders waiting for payment",
                order_status_counts(request).get(S.PENDING_PAYMENT, 0),
                f"{_changelist()}?status__exact=PENDING_PAYMENT&o=6",
            )
        ],
    )


def recent_cancellations_panel(request) -> Panel | None:
    if SUPPORT not in user_roles(request.user):
        return None
    recent = Order.objects.filter(status=S.CANCELLED).order_by("-cancelled_at")[:LIST_LENGTH]
    return Panel(
        "Recent cancellations",
        [_order_row(order, order.cancelled_at) for order in recent],
        empty="No cancellations.",
    )


def orders_chart_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    days = last_days()
    per_day = dict(
        Order.objects.filter(created_at__date__gte=days[0])
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Panel(
        "Orders, last 14 days",
        chart=Chart(
            [day.strftime("%d %b") for day in days],
            {"Orders placed": [per_day.get(day, 0) for day in days]},
        ),
    )


def work_links(request) -> list[NavLink]:
    roles = user_roles(request.user)
    counts = order_status_counts(request) if roles & {WAREHOUSE, SUPPORT} else {}
    url = _changelist()
    links = []
    if WAREHOUSE in roles:
        links += [
            NavLink("To process", f"{url}?status__exact=PAID", "inventory", counts.get(S.PAID)),
            NavLink(
                "To ship",
                f"{url}?status__exact=PROCESSING_IN_WAREHOUSE",
                "local_shipping",
                counts.get(S.PROCESSING_IN_WAREHOUSE),
            ),
        ]
    if SUPPORT in roles:
        links.append(
            NavLink(
                "Waiting for payment",
                f"{url}?status__exact=PENDING_PAYMENT&o=6",
                "hourglass",
                counts.get(S.PENDING_PAYMENT),
            )
        )
    return links


def record_links(request) -> list[NavLink]:
    if not request.user.has_perm("orders.view_order"):
        return []
    return [NavLink("Orders", _changelist(), "receipt_long")]
