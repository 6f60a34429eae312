"""Receiver of `audit_recorded`: runs inside the transaction of the change and only writes rows
(the event and its deliveries); messages go out on commit."""

from webhooks.events import EVENT_TYPE_BY_AUDIT
from webhooks.services import event_record_rollback_unsafe

# Events are of orders, returns, invoices and refunds (API.md, the documented event types);
# catalogue changes are audited but are no events.
EVENT_ENTITY_TYPES = frozenset(entity_type for entity_type, _ in EVENT_TYPE_BY_AUDIT)


def on_audit_recorded(sender, *, record, **kwargs) -> None:
    if record.entity_type in EVENT_ENTITY_TYPES:
        event_record_rollback_unsafe(record=record)
