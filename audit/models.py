import uuid

from django.conf import settings
from django.db import models

from articurated.context import Source


class EntityType(models.TextChoices):
    ORDER = "ORDER"
    RETURN = "RETURN"
    INVOICE = "INVOICE"
    REFUND = "REFUND"
    CATEGORY = "CATEGORY"
    PRODUCT = "PRODUCT"
    SKU = "SKU"


class ActorType(models.TextChoices):
    USER = "USER"
    SYSTEM = "SYSTEM"


class AuditRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit records are append-only.")

    def delete(self):
        raise TypeError("Audit records are append-only.")


class AuditRecord(models.Model):
    """One creation or state change of an order or a return. Append-only: the model refuses
    saves of existing rows and deletes, and database triggers refuse UPDATE, DELETE and (on
    PostgreSQL) TRUNCATE, so not even raw SQL rewrites history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity_type = models.CharField(max_length=10, choices=EntityType.choices)
    entity_id = models.UUIDField()
    entity_number = models.CharField(max_length=64)
    # The order an invoice's or refund's record belongs to (null for orders' and returns' own
    # records, and for job records written before it existed, which are keyed by the order).
    order_id = models.UUIDField(null=True, blank=True)
    transition = models.CharField(max_length=40)
    previous_state = models.CharField(max_length=40, null=True, blank=True)
    new_state = models.CharField(max_length=40)
    # PROTECT: a user who acted stays (deactivate, don't delete); the trail must not lose them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    source = models.CharField(max_length=10, choices=[(s.value, s.value) for s in Source])
    reason = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        # History pages walk (entity_id, created_at, id), job records are also found by their
        # order (order_id, created_at); the audit list walks (created_at, id).
        indexes = [
            models.Index(fields=["entity_id", "created_at", "id"], name="audit_entity_time_id"),
            models.Index(fields=["order_id", "created_at"], name="audit_order_time"),
            models.Index(fields=["created_at", "id"], name="audit_created_id"),
        ]
        permissions = []
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.entity_number} {self.transition}: {self.previous_state} → {self.new_state}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit records are append-only.")
