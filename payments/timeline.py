"""How refund job steps read on order and return timelines (registered in
PaymentsConfig.ready)."""

from audit.models import AuditRecord
from orders.models import Order
from orders.timeline import TimelineEntry, record_who
from payments.models import Refund
from returns.models import Return


def order_refund_ids(order: Order):
    return Refund.objects.filter(order_id=order.pk).values_list("pk", flat=True)


def return_refund_ids(return_obj: Return):
    return Refund.objects.filter(return_request_id=return_obj.pk).values_list("pk", flat=True)


def refund_describe(record: AuditRecord) -> TimelineEntry:
    data = record.metadata or {}
    name = f"Refund of {data.get('amount')} {data.get('currency')}"
    if data.get("return_number"):
        name += f" (return {data['return_number']})"
    words = {
        "succeed": f"{name} succeeded"
        + (f", reference {data['reference']}" if data.get("reference") else ""),
        "fail": f"{name} failed after {data.get('attempts')} attempts; managers alerted",
        "retry": f"{name} queued again",
    }
    what = words.get(record.transition, f"{name}: {record.transition.replace('_', ' ')}")
    detail = ""
    if data.get("error"):
        detail = f"Error: {data['error']}"
    elif data.get("last_error"):
        detail = (
            f"Earlier: {data.get('previous_attempts')} attempts, last error: {data['last_error']}"
        )
    state = record.new_state if record.previous_state != record.new_state else ""
    return TimelineEntry(record.created_at, record_who(record), what, detail, state, state.title())
