from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"

    def ready(self) -> None:
        from articurated.admin_nav import RECORDS, WORK, nav_register
        from articurated.dashboard import dashboard_panel_register
        from audit.models import EntityType
        from orders.models import Order
        from orders.timeline import timeline_describer_register, timeline_related_register
        from returns import dashboard
        from returns.models import Return
        from returns.timeline import order_return_ids, return_describe, return_order_id

        timeline_related_register(Order, order_return_ids)
        timeline_related_register(Return, return_order_id)
        timeline_describer_register(EntityType.RETURN, return_describe)
        dashboard_panel_register(dashboard.warehouse_returns_panel, position=11)
        dashboard_panel_register(dashboard.approval_panel, position=30)
        dashboard_panel_register(dashboard.returns_chart_panel, position=81)
        nav_register(WORK, dashboard.work_links, position=20)
        nav_register(RECORDS, dashboard.record_links, position=20)
