from django.db.models import Q, QuerySet

from audit.models import AuditRecord


def audit_record_list(*, entity_id=None) -> QuerySet[AuditRecord]:
    """Audit records, oldest first. With `entity_id`: the records of that entity and of what
    belongs to it (an order's invoice and refund records carry its id as `order_id`); ids are
    UUIDs, so no other entity's records match."""
    records = AuditRecord.objects.select_related("actor").order_by("created_at", "id")
    if entity_id is not None:
        records = records.filter(Q(entity_id=entity_id) | Q(order_id=entity_id))
    return records
