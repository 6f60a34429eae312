from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from articurated.admin_nav import RECORDS, WORK, nav_register
        from articurated.dashboard import dashboard_panel_register
        from audit.models import EntityType
        from orders.models import Order
        from orders.signals import order_cancelled
        from orders.timeline import timeline_describer_register, timeline_related_register
        from payments import dashboard as payments_dashboard
        from payments import tasks  # noqa: F401 - declares the actors on the broker
        from payments.receivers import on_order_cancelled, on_return_completed
        from payments.timeline import order_refund_ids, refund_describe, return_refund_ids
        from returns.models import Return
        from returns.signals import return_completed

        order_cancelled.connect(on_order_cancelled, dispatch_uid="payments.on_order_cancelled")
        return_completed.connect(on_return_completed, dispatch_uid="payments.on_return_completed")
        dashboard_panel_register(payments_dashboard.refunds_panel, position=50)
        dashboard_panel_register(payments_dashboard.refunds_chart_panel, position=82)
        nav_register(WORK, payments_dashboard.work_links, position=50)
        nav_register(RECORDS, payments_dashboard.record_links, position=50)
        timeline_related_register(Order, order_refund_ids)
        timeline_related_register(Return, return_refund_ids)
        timeline_describer_register(EntityType.REFUND, refund_describe)
