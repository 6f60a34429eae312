"""Receivers of the signals that become events. Each runs inside the transaction of the change
and only writes rows (the event and its deliveries); messages go out on commit."""

from webhooks.events import IMPORT_COMPLETED, IMPORT_FAILED, STOCK_LOW, audit_sends_event
from webhooks.services import event_emit_rollback_unsafe, event_record_rollback_unsafe
from webhooks.snapshots import import_body, sku_body


def on_audit_recorded(sender, *, record, subject=None, **kwargs) -> None:
    if audit_sends_event(record):
        event_record_rollback_unsafe(record=record, subject=subject)


def on_stock_low(sender, *, sku, **kwargs) -> None:
    """`stock.low` with the SKU body: sent once, when available stock crosses the threshold."""
    event_emit_rollback_unsafe(event_type=STOCK_LOW, data=sku_body(sku.pk))


def on_import_completed(sender, *, import_run, **kwargs) -> None:
    event_emit_rollback_unsafe(event_type=IMPORT_COMPLETED, data=import_body(import_run))


def on_import_failed(sender, *, import_run, **kwargs) -> None:
    event_emit_rollback_unsafe(event_type=IMPORT_FAILED, data=import_body(import_run))
