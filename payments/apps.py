from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from articurated.dashboard import dashboard_panel_register
        from orders.signals import order_cancelled
        from payments import tasks  # noqa: F401 - declares the actors on the broker
        from payments.dashboard import refunds_panel
        from payments.receivers import on_order_cancelled, on_return_completed
        from returns.signals import return_completed

        order_cancelled.connect(on_order_cancelled, dispatch_uid="payments.on_order_cancelled")
        return_completed.connect(on_return_completed, dispatch_uid="payments.on_return_completed")
        dashboard_panel_register(refunds_panel, position=50)
