"""The audit trail is append-only (PRODUCT.md "Audit trail", QUALITY.md "Audit immutability"):
the database refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE whatever client sends them, and
the ORM refuses every way it has to change or remove a record."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from articurated.context import ActionContext, Source
from audit.models import AuditRecord
from audit.services import audit_record_create_rollback_unsafe

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no TRUNCATE statement"
)


@pytest.fixture
def actor(db):
    return get_user_model().objects.create_user(username="clerk")


@pytest.fixture
def record(actor):
    with transaction.atomic():
        return audit_record_create_rollback_unsafe(
            entity_type="ORDER",
            entity_id=uuid.uuid4(),
            entity_number="ORD-2026-000042",
            transition="ship",
            previous_state="PROCESSING_IN_WAREHOUSE",
            new_state="SHIPPED",
            actor=actor,
            context=ActionContext(source=Source.API, ip_address="127.0.0.1", request_id="r-1"),
            metadata={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        )


def _stored(record) -> tuple:
    return AuditRecord.objects.filter(pk=record.pk).values_list(
        "transition", "previous_state", "new_state", "actor_id", "metadata", "reason"
    )[0]


def _db_uuid(value: uuid.UUID):
    """A UUID as this database stores it (hex text on SQLite, uuid on PostgreSQL)."""
    return AuditRecord._meta.pk.get_db_prep_value(value, connection)


def _raw(sql: str, params=()) -> None:
    # Each refused statement runs in its own savepoint so the test's transaction stays usable.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditrecord SET new_state = 'DELIVERED' WHERE id = %s",
        "UPDATE audit_auditrecord SET reason = 'tidied up' WHERE id = %s",
        "UPDATE audit_auditrecord SET actor_id = NULL WHERE id = %s",
        "UPDATE audit_auditrecord SET new_state = new_state",
    ],
    ids=["state", "reason", "actor", "every-row-no-op"],
)
def test_database_refuses_update(record, sql):
    # given
    before = _stored(record)

    # when / then
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql, [_db_uuid(record.pk)] * sql.count("%s"))
    assert _stored(record) == before


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM audit_auditrecord WHERE id = %s", "DELETE FROM audit_auditrecord"],
    ids=["one-row", "every-row"],
)
def test_database_refuses_delete(record, sql):
    # when / then
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql, [_db_uuid(record.pk)] * sql.count("%s"))
    assert AuditRecord.objects.filter(pk=record.pk).exists()


@postgres_only
@pytest.mark.parametrize(
    "sql", ["TRUNCATE audit_auditrecord", "TRUNCATE audit_auditrecord CASCADE"]
)
def test_database_refuses_truncate(record, sql):
    # given the record's deferred foreign-key checks have run, as after a commit (PostgreSQL
    # refuses TRUNCATE of a table with pending trigger events before our trigger is reached)
    _raw("SET CONSTRAINTS ALL IMMEDIATE")

    # when / then
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql)
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_database_still_accepts_new_records(record):
    # when
    _raw(
        "INSERT INTO audit_auditrecord (id, entity_type, entity_id, entity_number, transition, "
        "new_state, actor_type, source, metadata, created_at) "
        "VALUES (%s, 'ORDER', %s, 'ORD-2026-000043', 'create', 'PENDING_PAYMENT', 'SYSTEM', "
        "'CLI', '{}', CURRENT_TIMESTAMP)",
        [_db_uuid(uuid.uuid4()), _db_uuid(uuid.uuid4())],
    )

    # then
    assert AuditRecord.objects.count() == 2


def test_orm_refuses_to_save_an_existing_record(record):
    # given
    before = _stored(record)
    loaded = AuditRecord.objects.get(pk=record.pk)
    loaded.new_state = "DELIVERED"

    # when / then
    with pytest.raises(TypeError, match="append-only"):
        loaded.save()
    with pytest.raises(TypeError, match="append-only"):
        loaded.save(update_fields=["new_state"])
    assert _stored(record) == before


def test_orm_refuses_to_delete_a_record(record):
    # when / then
    with pytest.raises(TypeError, match="append-only"):
        AuditRecord.objects.get(pk=record.pk).delete()
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_orm_refuses_queryset_update_and_delete(record):
    # given
    before = _stored(record)

    # when / then
    with pytest.raises(TypeError, match="append-only"):
        AuditRecord.objects.filter(pk=record.pk).update(new_state="DELIVERED")
    with pytest.raises(TypeError, match="append-only"):
        AuditRecord.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditRecord.objects.update(reason="rewritten")
    record.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        AuditRecord.objects.bulk_update([record], ["reason"])
    assert _stored(record) == before


def test_the_user_who_acted_cannot_be_deleted(record, actor):
    # when / then
    with pytest.raises(ProtectedError), transaction.atomic():
        actor.delete()
    assert AuditRecord.objects.get(pk=record.pk).actor == actor
