"""An order's timeline for staff: audit records (state changes, jobs) merged with field-level
history (e.g. an address corrected by support), newest first."""

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from audit.selectors import audit_record_list
from orders.models import Order

# Fields whose changes the audit records already tell, or that change with every save.
_TOLD_BY_AUDIT = {
    "status",
    "updated_at",
    "paid_at",
    "processing_started_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "payment_reference",
    "payment_method",
    "carrier",
    "tracking_number",
    "cancellation_reason",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    what: str
    detail: str


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    entries = []
    for record in audit_record_list(entity_id=order.pk):
        if record.previous_state:
            what = f"{record.transition}: {record.previous_state} → {record.new_state}"
        else:
            what = f"{record.transition}: {record.new_state}"
        detail = "; ".join(f"{k}: {v}" for k, v in record.metadata.items() if v not in (None, ""))
        if record.reason:
            detail = f"reason: {record.reason}" + (f"; {detail}" if detail else "")
        who = record.actor.get_username() if record.actor else "system"
        entries.append(TimelineEntry(record.created_at, f"{who} ({record.source})", what, detail))

    history = list(order.history.select_related("history_user").order_by("history_date"))
    for previous, current in pairwise(history):
        changes = [
            change
            for change in current.diff_against(previous).changes
            if change.field not in _TOLD_BY_AUDIT
        ]
        if not changes:
            continue
        who = current.history_user.get_username() if current.history_user else "system"
        detail = "; ".join(f"{c.field}: {c.old!r} → {c.new!r}" for c in changes)
        entries.append(TimelineEntry(current.history_date, who, "edited", detail))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
