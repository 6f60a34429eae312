"""Stock per SKU and its append-only movements (PRODUCT.md "Catalogue and stock").

`StockLevel` is one row per SKU (its primary key is the SKU's), changed only by
inventory/services.py under a row lock, and the database itself refuses a negative
on hand, allocated, damaged or available (CHECK constraints). Every change writes a
`StockMovement` in the same transaction; triggers refuse UPDATE and DELETE of movements, so
on hand and allocated always equal the sums of their movements.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class StockLevel(models.Model):
    sku = models.OneToOneField(
        "catalogue.Sku", primary_key=True, on_delete=models.PROTECT, related_name="stock"
    )
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    damaged = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(condition=Q(damaged__gte=0), name="stock_damaged_not_negative"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("allocated")), name="stock_available_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.on_hand} on hand, {self.allocated} allocated"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class MovementReason(models.TextChoices):
    ALLOCATED = "ALLOCATED"
    DEALLOCATED = "DEALLOCATED"
    SHIPPED = "SHIPPED"
    RETURNED = "RETURNED"
    DAMAGED = "DAMAGED"
    ADJUSTED = "ADJUSTED"
    IMPORTED = "IMPORTED"


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Stock movements are append-only.")

    def delete(self):
        raise TypeError("Stock movements are append-only.")


class StockMovement(models.Model):
    """One change of a SKU's stock: the deltas and the levels after it. Orders, returns and
    imports are referenced by id only (they live in apps above this one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Found through movement_sku_time (its first column): no index of its own.
    sku = models.ForeignKey(
        "catalogue.Sku", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reason = models.CharField(max_length=12, choices=MovementReason.choices)
    delta_on_hand = models.IntegerField(default=0)
    delta_allocated = models.IntegerField(default=0)
    delta_damaged = models.IntegerField(default=0)
    on_hand = models.IntegerField()
    allocated = models.IntegerField()
    damaged = models.IntegerField(default=0)
    # Each indexed where set (Meta): most movements name one of them, not all three.
    order_id = models.UUIDField(null=True, blank=True)
    return_id = models.UUIDField(null=True, blank=True)
    import_id = models.UUIDField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sku", "-created_at"], name="movement_sku_time"),
            models.Index(fields=["-created_at"], name="movement_time"),
            # Partial: an index entry only where the movement names one. Every movement was
            # written into 8 indexes, 4 of them of NULLs and one a copy of movement_sku_time's
            # first column: a 500k-row import spent as long on its movements as on its SKUs.
            *(
                models.Index(
                    fields=[name],
                    name=f"movement_{name.removesuffix('_id')}",
                    condition=models.Q(**{f"{name}__isnull": False}),
                )
                for name in ("order_id", "return_id", "import_id", "actor")
            ),
        ]
        default_permissions = ("view",)
        permissions = [("adjust_stock", "Can set or adjust stock on hand")]

    def __str__(self) -> str:
        return f"{self.reason} {self.delta_on_hand:+d}/{self.delta_allocated:+d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Stock movements are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Stock movements are append-only.")
