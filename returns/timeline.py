"""How a return's steps read on the order's and the return's timelines (registered with
orders.timeline in ReturnsConfig.ready)."""

from audit.models import AuditRecord, EntityType
from orders.models import Order
from orders.timeline import TimelineEntry, describe, record_who, subject_records
from returns.models import Return, ReturnReason, ReturnStatus


def order_return_ids(order: Order):
    return Return.objects.filter(order_id=order.pk).values_list("pk", flat=True)


def return_order_id(return_obj: Return):
    # Refund job records written before they were keyed by the refund sit under the order.
    return [return_obj.order_id]


def return_describe(record: AuditRecord) -> TimelineEntry | None:
    data = record.metadata or {}
    number = record.entity_number
    reason = ReturnReason(data["reason"]).label if data.get("reason") in ReturnReason else ""
    units = sum(item.get("quantity", 0) for item in data.get("items", []))
    words = {
        "create": lambda: (
            f"Return {number} opened: {units} unit{'s' if units != 1 else ''}"
            + (f", {reason.lower()}" if reason else "")
            + (
                f", refund {data['refund_amount']} {data['currency']}"
                if data.get("currency")
                else ""
            )
        ),
        "approve": lambda: f"Return {number} approved",
        "reject": lambda: f"Return {number} rejected",
        "mark_in_transit": lambda: (
            f"Return {number} in transit"
            + (f" with {data['carrier']}" if data.get("carrier") else "")
            + (f", tracking {data['tracking_number']}" if data.get("tracking_number") else "")
        ),
        "receive": lambda: f"Return {number} received at the warehouse",
        "complete": lambda: (
            f"Return {number} completed; refund of "
            f"{data.get('refund_amount')} {data.get('currency')} to be paid"
        ),
    }
    what = words.get(record.transition, lambda: f"Return {number}: {record.transition}")()
    details = []
    if record.reason:
        details.append(
            ("Comment: " if record.transition == "create" else "Reason: ") + record.reason
        )
    if data.get("inspection_note"):
        details.append(f"Inspection: {data['inspection_note']}")
    state = record.new_state if record.previous_state != record.new_state else ""
    label = ReturnStatus(state).label if state in ReturnStatus.values else state
    return TimelineEntry(
        record.created_at, record_who(record), what, "; ".join(details), state, label
    )


def return_timeline(*, return_obj: Return) -> list[TimelineEntry]:
    """The return's own steps and its refund's, oldest first."""
    entries = []
    for record in subject_records(return_obj, entity_types=[EntityType.RETURN, EntityType.REFUND]):
        if record.entity_type == EntityType.RETURN and record.entity_id != return_obj.pk:
            continue
        if record.entity_type == EntityType.REFUND and (
            (record.metadata or {}).get("return_number") != return_obj.number
        ):
            continue
        if entry := describe(record):
            entries.append(entry)
    return entries
