from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.urls import reverse

from articurated.admin_nav import NavLink
from articurated.dashboard import Chart, Panel, job_queue_panel, last_days
from articurated.roles import MANAGER, user_roles
from payments.models import Refund, RefundStatus


def refunds_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    return job_queue_panel(
        request, title="Refunds", model=Refund, permission="payments.view_refund"
    )


def refunds_chart_panel(request) -> Panel | None:
    """Refunded amounts per day and currency (succeeded refunds)."""
    if MANAGER not in user_roles(request.user):
        return None
    days = last_days()
    rows = (
        Refund.objects.filter(status=RefundStatus.SUCCEEDED, succeeded_at__date__gte=days[0])
        .annotate(day=TruncDate("succeeded_at"))
        .values_list("day", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    series: dict[str, dict] = {}
    for day, currency, total in rows:
        series.setdefault(currency, {})[day] = total
    return Panel(
        "Refunded, last 14 days",
        chart=Chart(
            [day.strftime("%d %b") for day in days],
            {
                currency: [float(per_day.get(day, Decimal(0))) for day in days]
                for currency, per_day in sorted(series.items())
            }
            or {"Refunded": [0] * len(days)},
        ),
    )


def work_links(request) -> list[NavLink]:
    if MANAGER not in user_roles(request.user):
        return []
    failed = Refund.objects.filter(status=RefundStatus.FAILED).count()
    url = reverse("admin:payments_refund_changelist")
    return [NavLink("Failed refunds", f"{url}?status__exact=FAILED", "money_off", failed, "danger")]


def record_links(request) -> list[NavLink]:
    if not request.user.has_perm("payments.view_refund"):
        return []
    return [NavLink("Refunds", reverse("admin:payments_refund_changelist"), "currency_exchange")]
