"""Receiver of `audit_recorded`: runs inside the transaction of the change and only writes rows
(the event and its deliveries); messages go out on commit."""

from webhooks.services import event_record_rollback_unsafe


def on_audit_recorded(sender, *, record, subject=None, **kwargs) -> None:
    event_record_rollback_unsafe(record=record, subject=subject)
