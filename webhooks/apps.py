from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from audit.signals import audit_recorded
        from webhooks import tasks  # noqa: F401 - declares the actors on the broker
        from webhooks.receivers import on_audit_recorded

        audit_recorded.connect(on_audit_recorded, dispatch_uid="webhooks.on_audit_recorded")

        from articurated.admin_nav import nav_register
        from articurated.dashboard import dashboard_panel_register
        from orders.models import Order
        from orders.timeline import timeline_entries_register
        from webhooks import dashboard
        from webhooks.timeline import order_entries

        dashboard_panel_register(dashboard.failing_endpoints_panel, position=60)
        for section, build in dashboard.NAV:
            nav_register(section, build, position=60)
        timeline_entries_register(Order, order_entries)
