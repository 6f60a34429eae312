from django.db.models import QuerySet

from audit.models import AuditRecord


def audit_record_list(*, entity_id=None) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.select_related("actor").order_by("created_at", "id")
    if entity_id is not None:
        records = records.filter(entity_id=entity_id)
    return records
