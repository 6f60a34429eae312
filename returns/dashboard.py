"""What returns contribute to the admin index (dashboard per role) and the sidebar."""

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.urls import reverse

from articurated.admin_nav import NavLink
from articurated.dashboard import Chart, Panel, QueueCount, age_text, last_days
from articurated.roles import MANAGER, WAREHOUSE, user_roles
from returns.models import Return, ReturnStatus

S = ReturnStatus


def _changelist() -> str:
    return reverse("admin:returns_return_changelist")


def return_queue_counts(request) -> dict:
    counts = getattr(request, "_return_queue_counts", None)
    if counts is None:
        counts = Return.objects.aggregate(
            requested=Count("pk", filter=Q(status=S.REQUESTED)),
            oldest_requested=Min("created_at", filter=Q(status=S.REQUESTED)),
            in_transit=Count("pk", filter=Q(status=S.IN_TRANSIT)),
            received=Count("pk", filter=Q(status=S.RECEIVED)),
        )
        request._return_queue_counts = counts
    return counts


def warehouse_returns_panel(request) -> Panel | None:
    if WAREHOUSE not in user_roles(request.user):
        return None
    counts = return_queue_counts(request)
    return Panel(
        "Warehouse",
        [
            QueueCount(
                "Returns in transit, to receive",
                counts["in_transit"],
                f"{_changelist()}?status__exact=IN_TRANSIT",
            ),
            QueueCount(
                "Received returns, to complete",
                counts["received"],
                f"{_changelist()}?status__exact=RECEIVED",
            ),
        ],
    )


def approval_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    counts = return_queue_counts(request)
    oldest = counts["oldest_requested"]
    return Panel(
        "Returns",
        [
            QueueCount(
                "Awaiting approval",
                counts["requested"],
                f"{_changelist()}?queue=awaiting",
                note=f"oldest waits {age_text(oldest)}" if oldest else "",
            )
        ],
    )


def returns_chart_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    days = last_days()
    per_day = dict(
        Return.objects.filter(created_at__date__gte=days[0])
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Panel(
        "Returns opened, last 14 days",
        chart=Chart(
            [day.strftime("%d %b") for day in days],
            {"Returns opened": [per_day.get(day, 0) for day in days]},
        ),
    )


def work_links(request) -> list[NavLink]:
    roles = user_roles(request.user)
    if not roles & {WAREHOUSE, MANAGER}:
        return []
    counts = return_queue_counts(request)
    links = []
    if MANAGER in roles:
        links.append(
            NavLink(
                "Awaiting approval",
                f"{_changelist()}?queue=awaiting",
                "gavel",
                counts["requested"],
            )
        )
    if WAREHOUSE in roles:
        links += [
            NavLink(
                "Returns to receive",
                f"{_changelist()}?status__exact=IN_TRANSIT",
                "move_to_inbox",
                counts["in_transit"],
            ),
            NavLink(
                "Returns to complete",
                f"{_changelist()}?status__exact=RECEIVED",
                "assignment_turned_in",
                counts["received"],
            ),
        ]
    return links


def record_links(request) -> list[NavLink]:
    if not request.user.has_perm("returns.view_return"):
        return []
    return [NavLink("Returns", _changelist(), "assignment_return")]
