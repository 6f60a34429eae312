from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from articurated.dashboard import dashboard_panel_register
        from orders.dashboard import orders_panel, warehouse_panel

        dashboard_panel_register(warehouse_panel, position=10)
        dashboard_panel_register(orders_panel, position=90)
