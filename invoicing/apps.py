from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Invoices"

    def ready(self) -> None:
        from articurated.dashboard import dashboard_panel_register
        from invoicing import tasks  # noqa: F401 - declares the actors on the broker
        from invoicing.dashboard import invoices_panel
        from invoicing.receivers import on_order_shipped
        from orders.signals import order_shipped

        order_shipped.connect(on_order_shipped, dispatch_uid="invoicing.on_order_shipped")
        dashboard_panel_register(invoices_panel, position=40)
