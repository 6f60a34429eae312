"""CSV imports of SKUs (PRODUCT.md "Bulk import", API.md "Imports (CSV)").

An `Import` is written (QUEUED) in the transaction that stores the uploaded file, before its job
is queued, so a lost message is found by the sweep. The job commits its work in batches; each
batch commits the counts and `batches_done` with it, so a job that dies is resumed from the next
batch and no row is applied twice. Invalid rows are kept in `ImportRowError`.
"""

import uuid

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    QUEUED = "QUEUED"
    VALIDATING = "VALIDATING"
    IMPORTING = "IMPORTING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
FINISHED_STATUSES = (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.CANCELLED)


class Import(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED, db_index=True
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    rows_per_second = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # Resumption: batches committed so far (their counts are in the fields above).
    batches_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Raised by every write of progress: the SSE stream's event id.
    revision = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress write; the sweep re-sends active imports silent for too long.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("cancel_import", "Can cancel or retry imports")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent(self) -> float:
        if self.status == ImportStatus.COMPLETED:
            return 100.0
        if not self.total_rows:
            return 0.0
        return round(min(100.0, 100.0 * self.processed_rows / self.total_rows), 1)


class ImportRowError(models.Model):
    """One refused cell of an import: the data row's number in the file (the header is row 1),
    the column, the value as written and why."""

    id = models.BigAutoField(primary_key=True)
    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=64)
    value = models.TextField(blank=True, default="")
    message = models.CharField(max_length=300)
    # The batch that found it (stock below allocated is checked under lock in its batch); null for
    # errors found while validating, which a resumed job finds again.
    batch_no = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["import_run", "row"], name="import_error_row")]

    def __str__(self) -> str:
        return f"row {self.row} {self.column}: {self.message}"
