"""The admin index's work queues. Each domain app registers a panel in its AppConfig.ready,
so this bottom layer never imports them."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueCount:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Panel:
    title: str
    rows: list[QueueCount]


_PANELS: list[tuple[int, Callable[[object], Panel | None]]] = []


def dashboard_panel_register(build: Callable[[object], Panel | None], *, position: int) -> None:
    """`build(request)` returns the panel, or None when the user may not see it."""
    if all(existing is not build for _, existing in _PANELS):
        _PANELS.append((position, build))


def dashboard_panels(request) -> list[Panel]:
    built = (build(request) for _, build in sorted(_PANELS, key=lambda item: item[0]))
    return [panel for panel in built if panel is not None]


def job_queue_panel(request, *, title: str, model, permission: str) -> Panel | None:
    """Failed / waiting for a retry / pending counts of a job row model (Invoice, Refund):
    one with `status` PENDING/FAILED, `attempts` and `next_attempt_at`."""
    from django.urls import reverse
    from django.utils import timezone

    if not request.user.has_perm(permission):
        return None
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    pending = model.objects.filter(status="PENDING")
    waiting = pending.filter(attempts__gt=0, next_attempt_at__gt=timezone.now())
    return Panel(
        title,
        [
            QueueCount(
                "Failed",
                model.objects.filter(status="FAILED").count(),
                f"{url}?status__exact=FAILED",
            ),
            QueueCount("Waiting for a retry", waiting.count(), f"{url}?status__exact=PENDING"),
            QueueCount("Pending", pending.count(), f"{url}?status__exact=PENDING"),
        ],
    )
