"""The admin index: a dashboard per role. Each domain app registers panel builders in its
AppConfig.ready, so this bottom layer never imports them. A builder returns its panel, or
None when the user's role has no use for it (decided by the permissions the role carries).
Panels of the same title are merged in position order, so the warehouse's one "Warehouse"
card lists the order queues (from orders) and the return queues (from returns)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta


@dataclass(frozen=True)
class QueueCount:
    label: str
    count: int | str  # how many, or a short text (e.g. an age) for a list row
    url: str
    note: str = ""  # e.g. "oldest: 3 days"


@dataclass(frozen=True)
class Chart:
    """A bar chart of the last days (unfold's chart component, Chart.js shipped offline)."""

    labels: list[str]
    series: dict[str, list[float]]

    def data_json(self) -> str:
        return json.dumps(
            {
                "labels": self.labels,
                "datasets": [{"label": name, "data": data} for name, data in self.series.items()],
            }
        )


@dataclass(frozen=True)
class Panel:
    title: str
    rows: list[QueueCount] = field(default_factory=list)
    search_url: str = ""  # a search box that opens this changelist with ?q=
    search_hint: str = ""
    chart: Chart | None = None
    empty: str = "Nothing waiting."


_PANELS: list[tuple[int, Callable[[object], Panel | None]]] = []


def dashboard_panel_register(build: Callable[[object], Panel | None], *, position: int) -> None:
    """`build(request)` returns the panel, or None when the user may not see it."""
    if all(existing is not build for _, existing in _PANELS):
        _PANELS.append((position, build))


def dashboard_panels(request) -> list[Panel]:
    merged: dict[str, Panel] = {}
    for _, build in sorted(_PANELS, key=lambda item: item[0]):
        panel = build(request)
        if panel is None:
            continue
        if panel.title in merged:
            first = merged[panel.title]
            panel = replace(
                first,
                rows=[*first.rows, *panel.rows],
                search_url=first.search_url or panel.search_url,
                search_hint=first.search_hint or panel.search_hint,
                chart=first.chart or panel.chart,
            )
        merged[panel.title] = panel
    return list(merged.values())


def last_days(days: int = 14) -> list:
    """The dates of the last `days` days in the site's time zone, oldest first."""
    from django.utils import timezone

    today = timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def age_text(since) -> str:
    """ "3 days", "5 hours": how long something has waited."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    return timesince(since, timezone.now(), depth=1)


def job_queue_panel(request, *, title: str, model, permission: str) -> Panel | None:
    """Failed / waiting for a retry / pending counts of a job row model (Invoice, Refund):
    one with `status` PENDING/FAILED, `attempts` and `next_attempt_at`."""
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils import timezone

    if not request.user.has_perm(permission):
        return None
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    counts = model.objects.aggregate(
        failed=Count("pk", filter=Q(status="FAILED")),
        waiting=Count(
            "pk",
            filter=Q(status="PENDING", attempts__gt=0, next_attempt_at__gt=timezone.now()),
        ),
        pending=Count("pk", filter=Q(status="PENDING")),
    )
    return Panel(
        title,
        [
            QueueCount("Failed", counts["failed"], f"{url}?status__exact=FAILED"),
            QueueCount("Waiting for a retry", counts["waiting"], f"{url}?status__exact=PENDING"),
            QueueCount("Pending", counts["pending"], f"{url}?status__exact=PENDING"),
        ],
    )
