from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Invoices"

    def ready(self) -> None:
        from articurated.admin_nav import RECORDS, WORK, nav_register
        from articurated.dashboard import dashboard_panel_register
        from audit.models import EntityType
        from invoicing import dashboard as invoicing_dashboard
        from invoicing import tasks  # noqa: F401 - declares the actors on the broker
        from invoicing.receivers import on_order_shipped
        from invoicing.timeline import invoice_describe, order_invoice_ids
        from orders.models import Order
        from orders.signals import order_shipped
        from orders.timeline import timeline_describer_register, timeline_related_register

        order_shipped.connect(on_order_shipped, dispatch_uid="invoicing.on_order_shipped")
        dashboard_panel_register(invoicing_dashboard.invoices_panel, position=40)
        nav_register(WORK, invoicing_dashboard.work_links, position=40)
        nav_register(RECORDS, invoicing_dashboard.record_links, position=40)
        timeline_related_register(Order, order_invoice_ids)
        timeline_describer_register(EntityType.INVOICE, invoice_describe)
