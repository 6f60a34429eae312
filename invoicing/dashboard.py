from articurated.dashboard import Panel, job_queue_panel
from invoicing.models import Invoice


def invoices_panel(request) -> Panel | None:
    return job_queue_panel(
        request, title="Invoice jobs", model=Invoice, permission="invoicing.view_invoice"
    )
