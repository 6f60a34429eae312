from django.urls import reverse
from django.utils import timezone

from articurated.dashboard import Panel, QueueCount
from payments.models import Refund, RefundStatus


def refunds_panel(request) -> Panel | None:
    if not request.user.has_perm("payments.view_refund"):
        return None
    url = reverse("admin:payments_refund_changelist")
    pending = Refund.objects.filter(status=RefundStatus.PENDING)
    return Panel(
        "Refunds",
        [
            QueueCount(
                "Failed",
                Refund.objects.filter(status=RefundStatus.FAILED).count(),
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
