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


# --- REPLACE and upserts (issue 8: SQLite's INSERT OR REPLACE rewrote a record) -------------

_COLUMNS = (
    "id, entity_type, entity_id, entity_number, transition, previous_state, new_state, "
    "actor_type, source, reason, metadata, created_at"
)
_VALUES = (
    "%s, 'ORDER', %s, 'ORD-2026-000042', 'ship', NULL, 'DELIVERED', 'SYSTEM', 'CLI', "
    "'rewritten', '{}', CURRENT_TIMESTAMP"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-only statements")


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            f"INSERT OR REPLACE INTO audit_auditrecord ({_COLUMNS}) VALUES ({_VALUES})",
            marks=sqlite_only,
            id="insert-or-replace",
        ),
        pytest.param(
            f"REPLACE INTO audit_auditrecord ({_COLUMNS}) VALUES ({_VALUES})",
            marks=sqlite_only,
            id="replace",
        ),
        pytest.param(
            f"INSERT INTO audit_auditrecord ({_COLUMNS}) VALUES ({_VALUES}) "
            "ON CONFLICT (id) DO UPDATE SET reason = 'rewritten', new_state = 'DELIVERED'",
            id="on-conflict-do-update",
        ),
        pytest.param(
            f"INSERT INTO audit_auditrecord ({_COLUMNS}) VALUES ({_VALUES}) "
            "ON CONFLICT (id) DO UPDATE SET reason = excluded.reason",
            id="on-conflict-excluded",
        ),
    ],
)
def test_database_refuses_replacing_a_record(record, sql):
    # given
    before = _stored(record)

    # when / then
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql, [_db_uuid(record.pk), _db_uuid(record.entity_id)])
    assert _stored(record) == before
    assert AuditRecord.objects.count() == 1


def test_append_only_is_one_call_for_any_table(db):
    """A later append-only table (stock movements, …) gets the same guarantees with one call."""
    from articurated.db import append_only_install, append_only_remove

    # given a fresh table made append-only
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_ledger (id integer PRIMARY KEY, note varchar(20))")
        cursor.execute("INSERT INTO test_ledger (id, note) VALUES (1, 'first')")
    append_only_install(connection, table="test_ledger", message="ledger rows are append-only")
    try:
        statements = [
            "UPDATE test_ledger SET note = 'x'",
            "DELETE FROM test_ledger",
            "INSERT INTO test_ledger (id, note) VALUES (1, 'x') "
            "ON CONFLICT (id) DO UPDATE SET note = 'x'",
        ]
        if connection.vendor == "sqlite":
            statements.append("INSERT OR REPLACE INTO test_ledger (id, note) VALUES (1, 'x')")
        # when / then
        for sql in statements:
            with pytest.raises(DatabaseError, match="append-only"):
                _raw(sql)
        _raw("INSERT INTO test_ledger (id, note) VALUES (2, 'second')")
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, note FROM test_ledger ORDER BY id")
            assert cursor.fetchall() == [(1, "first"), (2, "second")]
    finally:
        append_only_remove(connection, table="test_ledger")
