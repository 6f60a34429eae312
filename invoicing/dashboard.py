from django.urls import reverse

from articurated.admin_nav import NavLink
from articurated.dashboard import Panel, job_queue_panel
from articurated.roles import MANAGER, user_roles
from invoicing.models import Invoice, InvoiceStatus


def invoices_panel(request) -> Panel | None:
    if MANAGER not in user_roles(request.user):
        return None
    return job_queue_panel(
        request, title="Invoice jobs", model=Invoice, permission="invoicing.view_invoice"
    )


def work_links(request) -> list[NavLink]:
    if MANAGER not in user_roles(request.user):
        return []
    failed = Invoice.objects.filter(status=InvoiceStatus.FAILED).count()
    url = reverse("admin:invoicing_invoice_changelist")
    return [NavLink("Failed invoices", f"{url}?status__exact=FAILED", "error", failed, "danger")]


def record_links(request) -> list[NavLink]:
    if not request.user.has_perm("invoicing.view_invoice"):
        return []
    return [NavLink("Invoices", reverse("admin:invoicing_invoice_changelist"), "description")]
