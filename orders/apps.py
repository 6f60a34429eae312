from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from articurated.admin_nav import RECORDS, WORK, nav_register
        from articurated.dashboard import dashboard_panel_register
        from orders import dashboard

        dashboard_panel_register(dashboard.support_search_panel, position=1)
        dashboard_panel_register(dashboard.warehouse_panel, position=10)
        dashboard_panel_register(dashboard.waiting_for_payment_panel, position=20)
        dashboard_panel_register(dashboard.recent_cancellations_panel, position=21)
        dashboard_panel_register(dashboard.orders_panel, position=70)
        dashboard_panel_register(dashboard.orders_chart_panel, position=80)
        nav_register(WORK, dashboard.work_links, position=10)
        nav_register(RECORDS, dashboard.record_links, position=10)
