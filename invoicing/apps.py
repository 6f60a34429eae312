from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Invoices"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.signals import request_started

        from articurated.dashboard import dashboard_panel_register
        from invoicing import tasks  # noqa: F401 - declares the actors on the broker
        from invoicing.dashboard import invoices_panel
        from invoicing.receivers import on_order_shipped
        from invoicing.worker import embedded_worker_on_request_started
        from orders.signals import order_shipped

        order_shipped.connect(on_order_shipped, dispatch_uid="invoicing.on_order_shipped")
        dashboard_panel_register(invoices_panel, position=40)
        if settings.DRAMATIQ_EMBEDDED_WORKER:
            request_started.connect(
                embedded_worker_on_request_started, dispatch_uid="invoicing.embedded_worker"
            )
