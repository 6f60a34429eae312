from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from audit.signals import audit_recorded
        from imports.signals import import_completed, import_failed
        from inventory.signals import stock_low
        from webhooks import (
            receivers,
            tasks,  # noqa: F401 - declares the actors on the broker
        )

        audit_recorded.connect(
            receivers.on_audit_recorded, dispatch_uid="webhooks.on_audit_recorded"
        )
        stock_low.connect(receivers.on_stock_low, dispatch_uid="webhooks.on_stock_low")
        import_completed.connect(
            receivers.on_import_completed, dispatch_uid="webhooks.on_import_completed"
        )
        import_failed.connect(receivers.on_import_failed, dispatch_uid="webhooks.on_import_failed")

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
