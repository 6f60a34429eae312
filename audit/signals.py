"""Sent inside the transaction that writes an audit record, for apps above `audit` (webhooks)
to write their own rows. Receivers must not do I/O: they queue work with transaction.on_commit."""

from django.dispatch import Signal

# kwargs: record (audit.models.AuditRecord)
audit_recorded = Signal()
