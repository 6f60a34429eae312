"""How invoice job steps read on an order's timeline (registered in InvoicingConfig.ready)."""

from audit.models import AuditRecord
from invoicing.models import Invoice
from orders.models import Order
from orders.timeline import TimelineEntry, record_who


def order_invoice_ids(order: Order):
    return Invoice.objects.filter(order_id=order.pk).values_list("pk", flat=True)


def invoice_describe(record: AuditRecord) -> TimelineEntry:
    data = record.metadata or {}
    name = f"Invoice {data['invoice_number']}" if data.get("invoice_number") else "The invoice"
    attempts = data.get("attempts")
    words = {
        "generate": f"{name} generated",
        "fail": f"{name} failed after {attempts} attempts",
        "retry": f"{name} queued again",
        "regenerate": f"{name} queued for regeneration",
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
