"""The managers' queue of failing webhook endpoints, on the dashboard and in the sidebar."""

from django.urls import reverse
from django.utils.timesince import timesince

from articurated.admin_nav import INTEGRATIONS, WORK, NavLink, links_may_view
from articurated.dashboard import Panel, QueueCount
from articurated.roles import MANAGER, user_roles
from webhooks.selectors import endpoint_failing_list

_SHOWN = 5


def failing_endpoints_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    failing = list(endpoint_failing_list()[: _SHOWN + 1])
    rows = []
    for endpoint in failing[:_SHOWN]:
        state = "failing" if endpoint.active else "disabled"
        since = f" for {timesince(endpoint.failing_since)}" if endpoint.failing_since else ""
        rows.append(
            QueueCount(
                endpoint.url,
                f"{endpoint.failure_streak} failed",
                reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
                note=f"{state}{since}",
            )
        )
    return Panel("Webhook endpoints failing", rows=rows, empty="Every endpoint is delivering.")


def work_links(request) -> list[NavLink]:
    if MANAGER not in user_roles(request.user):
        return []
    count = endpoint_failing_list().count()
    url = reverse("admin:webhooks_endpoint_changelist")
    return [NavLink("Failing webhooks", url, "webhook", count, "danger")]


_INTEGRATION_LINKS = [
    ("Webhook endpoints", "admin:webhooks_endpoint_changelist", "webhook",
     "webhooks.view_endpoint"),
    ("Webhook deliveries", "admin:webhooks_delivery_changelist", "outbox",
     "webhooks.view_delivery"),
]  # fmt: skip


def integration_links(request) -> list[NavLink]:
    return links_may_view(request, _INTEGRATION_LINKS)


NAV = ((WORK, work_links), (INTEGRATIONS, integration_links))
