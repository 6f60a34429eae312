"""The catalogue: a category tree, products and their SKUs (PRODUCT.md "Catalogue and stock").

Every row carries `version` (optimistic locking: raised by one on every change, checked against
the editor's If-Match or form) and `deleted_at` (soft delete). Writes go through
catalogue/services.py; stock lives in `inventory`, one level row per SKU.
"""

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from articurated.history import HistoricalRecords

MONEY = {"max_digits": 16, "decimal_places": 2}
# 1-64 characters of [A-Za-z0-9._-] (API.md "Catalogue").
SKU_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
PATH_SEPARATOR = " / "


LIVE = models.Q(deleted_at__isnull=True)
DELETED = models.Q(deleted_at__isnull=False)


class LiveQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Indexed only where deleted (partial indexes, see Product and Sku): live rows are found by
    # the other indexes, which are partial on `deleted_at IS NULL`.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LiveQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Category(Versioned):
    """A node of the category tree, stored as a materialized path of ancestor ids
    (`tree_path` = "/<root hex>/<child hex>/…/<own hex>/"). A subtree is one indexed prefix
    match on both databases, a move rewrites the subtree's paths in one UPDATE, and a rename
    touches one row (the readable path is built from the ancestors' names when shown)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    tree_path = models.CharField(max_length=2000, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["tree_path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def ancestor_ids(self) -> list[uuid.UUID]:
        """Ids from the root down to this category itself."""
        return [uuid.UUID(part) for part in self.tree_path.strip("/").split("/") if part]


class Product(Versioned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", db_index=False
    )
    attributes = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        # Partial on live rows: every list and filter reads live products (`live()`), and a
        # soft delete then writes no entry into them, only into the small index of deleted
        # rows (a bulk delete of 500,000 products was 2.7x slower with full indexes).
        indexes = [
            models.Index(fields=["name"], name="product_name_live", condition=LIVE),
            models.Index(fields=["category"], name="product_category_live", condition=LIVE),
            models.Index(fields=["deleted_at"], name="product_deleted", condition=DELETED),
        ]

    def __str__(self) -> str:
        return self.name


class Sku(Versioned):
    """A sellable variant of a product. `code` keeps the case it was written in; it is unique
    among live SKUs regardless of case (a partial unique index on lower(code), so a deleted
    SKU's code may be reused and restoring it is refused while a live one holds it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField("SKU", max_length=64)
    attributes = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="USD")
    track_inventory = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code", "id"]
        verbose_name = "SKU"
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                condition=LIVE,
                name="sku_code_live_unique_ci",
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="sku_price_not_negative"),
        ]
        # No index of all codes: the unique index holds the live ones, and deleted codes are
        # only looked up by an import (one set-based match per file).
        indexes = [models.Index(fields=["deleted_at"], name="sku_deleted", condition=DELETED)]

    def __str__(self) -> str:
        return self.code

    @property
    def display_name(self) -> str:
        """The product's name with the SKU's option values: "Hand-thrown vase — celadon"."""
        options = ", ".join(str(value) for value in (self.attributes or {}).values())
        return f"{self.product.name} — {options}" if options else self.product.name

    @property
    def orderable(self) -> bool:
        return (
            self.deleted_at is None
            and self.active
            and self.product.deleted_at is None
            and self.product.active
        )
