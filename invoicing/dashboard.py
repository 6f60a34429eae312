from django.urls import reverse
from django.utils import timezone

from articurated.dashboard import Panel, QueueCount
from invoicing.models import Invoice, InvoiceStatus


def invoices_panel(request) -> Panel | None:
    if not request.user.has_perm("invoicing.view_invoice"):
        return None
    url = reverse("admin:invoicing_invoice_changelist")
    pending = Invoice.objects.filter(status=InvoiceStatus.PENDING)
    return Panel(
        "Invoice jobs",
        [
            QueueCount(
                "Failed",
                Invoice.objects.filter(status=InvoiceStatus.FAILED).count(),
                f"{url}?status__exact=FAILED",
            ),
            QueueCount(
                "Waiting for a retry",
                pending.filter(attempts__gt=0, next_attempt_at__gt=timezone.now()).count(),
                f"{url}?status__exact=PENDING",
            ),
            QueueCount("Pending", pending.count(), f"{url}?status__exact=PENDING"),
        ],
    )
