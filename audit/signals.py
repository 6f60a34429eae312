"""Sent inside the transaction that writes an audit record, for apps above `audit` (webhooks)
to write their own rows. Receivers must not do I/O: they queue work with transaction.on_commit."""

from django.dispatch import Signal

# kwargs: record (audit.models.AuditRecord); subject: the changed object as the change left it,
# when the caller holds it (else None), so a receiver need not read it again.
audit_recorded = Signal()
