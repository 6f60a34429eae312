from django.db import transaction

from articurated.context import ActionContext
from articurated.db import row_insert_rollback_unsafe
from audit.models import ActorType, AuditRecord
from audit.signals import audit_recorded


def audit_record_create_rollback_unsafe(
    *,
    entity_type: str,
    entity_id,
    entity_number: str,
    transition: str,
    previous_state: str | None,
    new_state: str,
    actor,
    context: ActionContext,
    reason: str | None = None,
    metadata: dict | None = None,
    order_id=None,
    subject=None,
) -> AuditRecord:
    """Writes one audit record. Only inside the transaction of the change it records (asserted),
    so the change and its record commit or vanish together. `order_id`: the order an
    invoice's or refund's record belongs to, so the order's history lists it. Sends
    `audit_recorded` with it (webhooks write their event in the same transaction) and with
    `subject`, the changed object as the caller holds it, so receivers need not read it again."""
    connection = transaction.get_connection()
    assert connection.in_atomic_block, "audit inside the change's transaction"
    user = actor if actor is not None and actor.is_authenticated else None
    record = AuditRecord(
        entity_type=entity_type,
        entity_id=entity_id,
        entity_number=entity_number,
        order_id=order_id,
        transition=transition,
        previous_state=previous_state,
        new_state=new_state,
        actor=user,
        actor_type=ActorType.USER if user else ActorType.SYSTEM,
        source=context.source,
        reason=reason or None,
        metadata=metadata or {},
        ip_address=context.ip_address,
        request_id=context.request_id,
    )
    row_insert_rollback_unsafe(record, connection)  # append-only: an INSERT, nothing more
    audit_recorded.send(sender=AuditRecord, record=record, subject=subject)
    return record
