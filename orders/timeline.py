"""Timelines for staff, in words: an order's (or a return's) audit records, the steps of what
hangs off it (returns, invoice, refunds) and field corrections from django-simple-history,
merged oldest first.

Pluggable, so `orders` imports none of the apps above it (STYLE.md rule 7): each app registers
in its AppConfig.ready
- `timeline_related_register(Model, ids)`: the ids whose audit records belong on that
  subject's timeline (e.g. returns registers an order's return ids);
- `timeline_describer_register(entity_type, describe)`: how its audit records read in words;
- `timeline_entries_register(Model, entries)`: lines that are not audit records (e.g. how an
  order's webhook events were delivered).
All the records of a timeline are then read in one query."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from audit.models import AuditRecord, EntityType
from orders.models import Order, OrderStatus

SOURCE_WORDS = {"API": "API", "ADMIN": "admin", "JOB": "background job", "CLI": "command"}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    what: str  # a sentence: "Shipped with UPS, tracking 1Z999…"
    detail: str = ""
    state: str = ""  # the state it reached (shown as its coloured label), if any
    state_label: str = ""


Describe = Callable[[AuditRecord], TimelineEntry | None]
_DESCRIBERS: dict[str, Describe] = {}
_RELATED: list[tuple[type, Callable[[object], Iterable]]] = []
_ENTRIES: list[tuple[type, Callable[[object], Iterable[TimelineEntry]]]] = []


def timeline_describer_register(entity_type: str, describe: Describe) -> None:
    _DESCRIBERS[entity_type] = describe


def timeline_related_register(subject: type, ids: Callable[[object], Iterable]) -> None:
    if all(existing is not ids for _, existing in _RELATED):
        _RELATED.append((subject, ids))


def timeline_entries_register(
    subject: type, entries: Callable[[object], Iterable[TimelineEntry]]
) -> None:
    if all(existing is not entries for _, existing in _ENTRIES):
        _ENTRIES.append((subject, entries))


def registered_entries(subject) -> list[TimelineEntry]:
    return [
        entry
        for model, entries in _ENTRIES
        if isinstance(subject, model)
        for entry in entries(subject)
    ]


def record_who(record: AuditRecord) -> str:
    who = record.actor.get_username() if record.actor_id else "system"
    return f"{who} · {SOURCE_WORDS.get(record.source, record.source)}"


def subject_records(subject, *, entity_types: Iterable[str] | None = None) -> list[AuditRecord]:
    """The audit records of `subject` and of everything registered as belonging to it."""
    ids = {subject.pk}
    for model, related in _RELATED:
        if isinstance(subject, model):
            ids.update(related(subject))
    records = AuditRecord.objects.filter(entity_id__in=ids).select_related("actor")
    if entity_types is not None:
        records = records.filter(entity_type__in=list(entity_types))
    return list(records.order_by("created_at", "id"))


def describe(record: AuditRecord) -> TimelineEntry | None:
    describer = _DESCRIBERS.get(record.entity_type)
    if describer is not None:
        return describer(record)
    what = f"{record.entity_type.title()} {record.entity_number}: {record.transition}"
    return TimelineEntry(record.created_at, record_who(record), what, record.reason or "")


def _order_describe(record: AuditRecord) -> TimelineEntry | None:
    data = record.metadata or {}
    words = {
        "create": lambda: (
            f"Order placed ({data.get('total_amount')} {data.get('currency')})"
            if data.get("total_amount")
            else "Order placed"
        ),
        "pay": lambda: (
            "Payment recorded"
            + (f", reference {data['payment_reference']}" if data.get("payment_reference") else "")
            + (f" ({data['payment_method']})" if data.get("payment_method") else "")
        ),
        "start_processing": lambda: "Warehouse started processing",
        "ship": lambda: (
            f"Shipped with {data.get('carrier')}, tracking {data.get('tracking_number')}"
        ),
        "deliver": lambda: "Delivered; the return window opens",
        "cancel": lambda: "Cancelled",
    }
    if record.transition == "update":
        return None  # the field history below tells what changed, from what to what
    what = words.get(record.transition, lambda: record.transition.replace("_", " "))()
    detail = f"Reason: {record.reason}" if record.reason else ""
    state = record.new_state if record.previous_state != record.new_state else ""
    return TimelineEntry(
        record.created_at,
        record_who(record),
        what,
        detail,
        state,
        OrderStatus(state).label if state in OrderStatus.values else state,
    )


timeline_describer_register(EntityType.ORDER, _order_describe)

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


def _shown(value) -> str:
    return f"“{value}”" if value not in (None, "") else "(blank)"


def order_field_changes(order: Order) -> list[TimelineEntry]:
    """Corrections of the order's details: who changed which field from what to what."""
    entries = []
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
        detail = "; ".join(
            f"{Order._meta.get_field(c.field).verbose_name.capitalize()}: "
            f"{_shown(c.old)} → {_shown(c.new)}"
            for c in changes
        )
        entries.append(TimelineEntry(current.history_date, who, "Details edited", detail))
    return entries


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """Everything that happened to the order and what hangs off it, oldest first."""
    entries = [entry for record in subject_records(order) if (entry := describe(record))]
    entries += order_field_changes(order)
    entries += registered_entries(order)
    return sorted(entries, key=lambda entry: entry.at)
