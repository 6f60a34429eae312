from articurated.dashboard import Panel, job_queue_panel
from payments.models import Refund


def refunds_panel(request) -> Panel | None:
    return job_queue_panel(
        request, title="Refunds", model=Refund, permission="payments.view_refund"
    )
