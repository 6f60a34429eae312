"""Imports: upload, the job that processes one, cancel, retry and the sweep.

History and audit for 500,000 rows: the rows an import writes get no per-row history records
(django-simple-history would double every write and the audit table would grow by a row per
SKU); instead the import is the record: one audit record when it is queued, one when it ends
(with its counts), stock movements (IMPORTED, with the import's id) for every stock change,
and the import's own row with its file kept in storage. Versions are raised on every changed
product and SKU, so optimistic locking still sees the change.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from articurated.context import JOB as JOB_CONTEXT
from articurated.context import ActionContext
from articurated.db import statement_timeout_session
from articurated.errors import Conflict, NotFound, PermissionDenied
from articurated.jobs import job_error_text, job_send_on_commit
from audit.models import EntityType
from audit.services import audit_record_create_rollback_unsafe
from imports import engine, reading, signals
from imports.models import ACTIVE_STATUSES, Import, ImportRowError, ImportStatus

logger = logging.getLogger(__name__)
JOB = "import_process_job"
S = ImportStatus


class ImportFinished(Conflict):
    code = "IMPORT_FINISHED"


class ImportCancelled(Exception):
    """Raised inside the job when the import was cancelled meanwhile."""


def _ensure_may(actor, permission: str, verb: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(f"You may not {verb}.")


def _audit(imp: Import, *, transition, previous, new, actor, context, metadata=None) -> None:
    audit_record_create_rollback_unsafe(
        entity_type=EntityType.PRODUCT,
        entity_id=imp.pk,
        entity_number=f"import {imp.filename}"[:64],
        transition=transition,
        previous_state=previous,
        new_state=new,
        actor=actor,
        context=context,
        metadata=metadata or {},
    )


def _counts(imp: Import) -> dict:
    return {
        "total_rows": imp.total_rows,
        "created": imp.created,
        "updated": imp.updated,
        "unchanged": imp.unchanged,
        "invalid": imp.invalid,
    }


def _lock(import_id) -> Import:
    imp = Import.objects.select_for_update().filter(pk=import_id).first()
    if imp is None:
        raise NotFound(f"No import {import_id}.")
    return imp


@transaction.atomic
def import_create(*, file: UploadedFile, actor, context: ActionContext) -> Import:
    """Stores the upload and records a QUEUED import, then queues its job on commit. Managers.
    The caller has checked the header (`reading.header_read`) and the size."""
    _ensure_may(actor, "imports.add_import", "import products")
    imp = Import(
        filename=(file.name or "import.csv")[-255:],
        size_bytes=file.size or 0,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        heartbeat_at=timezone.now(),
    )
    file.seek(0)
    imp.file.save(imp.filename, file, save=False)
    imp.save()
    _audit(
        imp,
        transition="import_queue",
        previous=None,
        new=S.QUEUED,
        actor=actor,
        context=context,
        metadata={"filename": imp.filename, "size_bytes": imp.size_bytes},
    )
    job_send_on_commit(JOB, str(imp.pk))
    return imp


@transaction.atomic
def import_cancel(*, import_id, actor, context: ActionContext) -> Import:
    """Stops an import at its next batch; what it committed stays and is counted. Managers.
    Refused with IMPORT_FINISHED once it has ended."""
    _ensure_may(actor, "imports.cancel_import", "cancel imports")
    imp = _lock(import_id)
    if imp.is_finished:
        raise ImportFinished(
            f"The import has already ended ({imp.status}).", details={"status": imp.status}
        )
    previous = imp.status
    Import.objects.filter(pk=imp.pk).update(
        status=S.CANCELLED, finished_at=timezone.now(), revision=F("revision") + 1
    )
    imp.refresh_from_db()
    _audit(
        imp,
        transition="import_cancel",
        previous=previous,
        new=S.CANCELLED,
        actor=actor,
        context=context,
        metadata=_counts(imp),
    )
    return imp


@transaction.atomic
def import_retry(*, import_id, actor, context: ActionContext) -> Import:
    """Queues a FAILED import again: it resumes after its last committed batch, so its counts
    stay true. Managers."""
    _ensure_may(actor, "imports.cancel_import", "retry imports")
    imp = _lock(import_id)
    if imp.status != S.FAILED:
        raise Conflict(
            f"Only a failed import can be retried; this one is {imp.status}.",
            details={"status": imp.status},
        )
    Import.objects.filter(pk=imp.pk).update(
        status=S.QUEUED,
        error="",
        finished_at=None,
        heartbeat_at=timezone.now(),
        revision=F("revision") + 1,
    )
    imp.refresh_from_db()
    _audit(
        imp,
        transition="import_retry",
        previous=S.FAILED,
        new=S.QUEUED,
        actor=actor,
        context=context,
    )
    job_send_on_commit(JOB, str(imp.pk))
    return imp


def import_sweep(*, grace_seconds: float | None = None, limit: int = 100) -> int:
    """Sends again the job of every active import silent (no progress written) for more than
    the grace period: its message was lost or its worker died without RabbitMQ handing the
    message back. Claims them with SKIP LOCKED and moves their heartbeat, so concurrent sweeps
    do not both send."""
    grace = settings.JOBS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    now = timezone.now()
    with transaction.atomic():
        overdue = list(
            Import.objects.select_for_update(skip_locked=True)
            .filter(status__in=ACTIVE_STATUSES, heartbeat_at__lte=now - timedelta(seconds=grace))
            .order_by("heartbeat_at")[:limit]
        )
        for imp in overdue:
            job_send_on_commit(JOB, str(imp.pk))
        Import.objects.filter(pk__in=[i.pk for i in overdue]).update(heartbeat_at=now)
    if overdue:
        logger.warning("Import sweep sent %d stalled imports again.", len(overdue))
    return len(overdue)


# --- the job ---------------------------------------------------------------------------------


class _Progress:
    """Writes the import's progress (at most every PROGRESS_SECONDS, and at every batch)."""

    def __init__(self, imp: Import) -> None:
        self.import_id = imp.pk
        self.started = time.monotonic()
        self.base = imp.processed_rows
        self.throttle = engine.Throttle(settings.IMPORT_PROGRESS_SECONDS)

    def rate(self, rows_this_attempt: int) -> float:
        elapsed = max(time.monotonic() - self.started, 1e-3)
        return round(rows_this_attempt / elapsed, 1)

    def write(self, **fields) -> None:
        Import.objects.filter(pk=self.import_id).update(
            **fields, heartbeat_at=timezone.now(), revision=F("revision") + 1
        )

    def cancelled(self) -> bool:
        return Import.objects.filter(pk=self.import_id, status=S.CANCELLED).exists()


def _claim(import_id) -> Import | None:
    with transaction.atomic():
        imp = Import.objects.select_for_update().filter(pk=import_id).first()
        if imp is None or imp.status not in ACTIVE_STATUSES:
            return None
        now = timezone.now()
        imp.attempts += 1
        imp.started_at = imp.started_at or now
        imp.status = S.IMPORTING if imp.batches_done else S.VALIDATING
        imp.heartbeat_at = now
        imp.revision += 1
        imp.save(update_fields=["attempts", "started_at", "status", "heartbeat_at", "revision"])
        return imp


def _session_lock(imp: Import, *, take: bool) -> bool:
    """PostgreSQL: a session advisory lock per import, so two workers never process the same
    one (a redelivered message while the first worker still runs). Released by the server when
    a killed worker's connection drops."""
    if connection.vendor != "postgresql":
        return True
    key = imp.pk.int & 0x7FFFFFFFFFFFFFFF
    with connection.cursor() as cursor:
        if take:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return True


def import_process(*, import_id, budget_seconds: float | None = None) -> str:
    """The import job (actor `import_process_job` only): QUEUED → VALIDATING → IMPORTING →
    COMPLETED, or FAILED with the error. Safe to run any number of times: it does nothing
    unless the import is active, and resumes after the last committed batch. Each batch is one
    transaction that commits its rows and their counts together. Stops at the next batch once
    cancelled. After `budget_seconds` (below the broker's consumer timeout) it queues itself
    again and returns "continued". Returns the status it left."""
    imp = Import.objects.filter(pk=import_id).first()
    if imp is None or imp.status not in ACTIVE_STATUSES:
        return imp.status if imp else "MISSING"
    if not _session_lock(imp, take=True):
        logger.info("Import %s is being processed by another worker.", import_id)
        return "BUSY"
    try:
        imp = _claim(import_id)
        if imp is None:
            return "FINISHED"
        # Its statements over the whole staging table outlast a request's limit by design.
        with statement_timeout_session(settings.DATABASE_BULK_STATEMENT_TIMEOUT):
            return _process(imp, budget_seconds or settings.IMPORT_JOB_BUDGET_SECONDS)
    except ImportCancelled:
        return S.CANCELLED
    except Exception as exc:  # any failure ends the import FAILED with a message; retry resumes
        logger.exception("Import %s failed.", import_id)
        _finish(import_id, status=S.FAILED, error=job_error_text(exc))
        return S.FAILED
    finally:
        try:
            engine.stage_drop()
        finally:
            _session_lock(imp, take=False)


def _process(imp: Import, budget: float) -> str:
    progress = _Progress(imp)
    validating = imp.status == S.VALIDATING

    def on_chunk(rows: int) -> None:
        if progress.cancelled():
            raise ImportCancelled
        if validating:
            progress.write(total_rows=rows, rows_per_second=progress.rate(rows))

    with imp.file.open("rb") as stored:
        binary = getattr(stored, "file", stored)
        total = engine.stage_load(reading.rows_read(reading.text_stream(binary)), on_chunk=on_chunk)
    prepared = engine.stage_prepare(group_size=settings.IMPORT_BATCH_PRODUCTS)
    done = imp.batches_done
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status == S.CANCELLED:
            raise ImportCancelled
        ImportRowError.objects.filter(import_run=imp).exclude(batch_no__lt=done).delete()
        engine.invalid_rows_copy(import_id=imp.pk)
        processed = prepared["invalid_rows"] + engine.rows_before_batch(done)
        progress.write(
            status=S.IMPORTING,
            total_rows=total,
            processed_rows=processed,
            invalid=ImportRowError.objects.filter(import_run=imp).count(),
        )
    base = processed
    actor_id = imp.created_by_id
    started = time.monotonic()
    fault_delay = settings.JOBS_FAULT_DELAY_SECONDS
    for batch_no in range(done, prepared["batches"]):
        if progress.cancelled():
            raise ImportCancelled
        if time.monotonic() - started > budget:
            with transaction.atomic():
                progress.write(status=S.IMPORTING)
                job_send_on_commit(JOB, str(imp.pk))
            return "continued"
        with transaction.atomic():
            counts = engine.batch_apply(batch_no=batch_no, import_id=imp.pk, actor_id=actor_id)
            processed += counts.processed
            # Counted with the rows they describe, in the same transaction.
            progress.write(
                batches_done=batch_no + 1,
                processed_rows=F("processed_rows") + counts.processed,
                created=F("created") + counts.created,
                updated=F("updated") + counts.updated,
                unchanged=F("unchanged") + counts.unchanged,
                invalid=F("invalid") + counts.invalid,
                rows_per_second=progress.rate(processed - base),
            )
        if fault_delay and batch_no == done:
            time.sleep(fault_delay)  # drills: a worker killed here has committed one batch
    imp.refresh_from_db(fields=["created", "updated"])
    engine.statistics_refresh(rows_written=imp.created + imp.updated, rows_rewritten=imp.updated)
    return _finish(imp.pk, status=S.COMPLETED, rate=progress.rate(total))


def _finish(import_id, *, status: str, error: str = "", rate: float | None = None) -> str:
    with transaction.atomic():
        imp = Import.objects.select_for_update().filter(pk=import_id).first()
        if imp is None or imp.status not in ACTIVE_STATUSES:
            return imp.status if imp else "MISSING"
        previous = imp.status
        imp.status = status
        imp.error = error
        imp.finished_at = timezone.now()
        imp.heartbeat_at = imp.finished_at
        imp.revision += 1
        fields = ["status", "error", "finished_at", "heartbeat_at", "revision"]
        if status == S.COMPLETED:
            imp.processed_rows = imp.total_rows or imp.processed_rows
            fields.append("processed_rows")
            if rate is not None:
                imp.rows_per_second = rate
                fields.append("rows_per_second")
        imp.save(update_fields=fields)
        _audit(
            imp,
            transition=f"import_{status.lower()}",
            previous=previous,
            new=status,
            actor=None,
            context=JOB_CONTEXT,
            metadata={**_counts(imp), "error": error},
        )
        signal = signals.import_completed if status == S.COMPLETED else signals.import_failed
        # Inside the transaction, like every domain signal here: a subscriber (webhooks) writes
        # its event row with this commit and queues its delivery on commit.
        signal.send(sender=Import, import_run=imp)
    return status
