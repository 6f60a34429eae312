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
