"""Raw SQL that differs by database (triggers), run the same way by every app that has some."""

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter

from django.db import connection as default_connection
from django.db.models import CharField, Field, ForeignKey, TextField, UUIDField, signals


def vendor_sql_run(connection, *, postgresql: str, sqlite: Sequence[str]) -> None:
    """Runs the PostgreSQL script, or the SQLite statements one by one (SQLite's driver takes
    one statement per execute); other databases get nothing."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgresql)
        elif connection.vendor == "sqlite":
            for statement in sqlite:
                cursor.execute(statement)


def statement_timeout_set_rollback_unsafe(seconds: float) -> None:
    """Gives the statements of the current transaction `seconds` each (0: no limit) instead of
    DATABASE_STATEMENT_TIMEOUT, on PostgreSQL; the connection's own limit returns at commit or
    rollback. For work whose statements are large by design (a bulk delete of 500k rows)."""
    if default_connection.vendor == "postgresql":
        with default_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [f"{max(0, int(seconds * 1000))}ms"],
            )


@contextmanager
def statement_timeout_session(seconds: float) -> Iterator[None]:
    """The same for every transaction inside the block (a background job that commits batch
    by batch), restoring the connection's own limit after it, on PostgreSQL."""
    if default_connection.vendor != "postgresql":
        yield
        return
    with default_connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            [f"{max(0, int(seconds * 1000))}ms"],
        )
    try:
        yield
    finally:
        if default_connection.is_usable():
            with default_connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [previous])


def row_insert_sql(instance, connection) -> tuple[str, list]:
    """The INSERT of one new model instance (every concrete field, defaults and auto_now_add
    filled in as `save()` would), and its parameters: the same text every time for a model, so
    a connection prepares it once, and no ORM query is compiled per row. Sends no signals."""
    return rows_insert_sql([instance], connection)


def rows_insert_sql(instances: Sequence, connection, fields=None) -> tuple[str, list]:
    """row_insert_sql for several new instances of one model (one INSERT of as many rows, its
    text fixed by the model and the number of rows), of `fields` (default: all concrete). A
    value that is an SQL expression (`RawSQL`, as save() takes one) goes into the statement
    in its placeholder's place, to be worked out by the database."""
    sql, params, _ = _rows_insert(instances, connection, fields)
    return sql, params


def _rows_insert(instances: Sequence, connection, fields=None) -> tuple[str, list, list]:
    # rows_insert_sql, and the fields given as SQL expressions, row after row.
    meta = instances[0]._meta
    fields = meta.concrete_fields if fields is None else fields
    key = (meta, connection.vendor, tuple(map(_COLUMN, fields)))
    found = _insert_of.get(key)
    if found is None:
        quote = connection.ops.quote_name
        found = _insert_of[key] = (
            f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 - the model's names, not input
            f"({', '.join(quote(field.column) for field in fields)}) VALUES ",
            [_saved_as_is(field, connection) for field in fields],
        )
    head, as_is = found
    params, rows, computed = [], [], []
    for instance in instances:
        row = []
        for field, types in zip(fields, as_is, strict=True):
            if types:
                value = getattr(instance, field.attname)
                if type(value) in types:
                    params.append(value)  # what get_db_prep_save would give: it as it is
                    row.append("%s")
                    continue
            value = field.get_db_prep_save(field.pre_save(instance, True), connection)
            if hasattr(value, "as_sql"):
                expression, expression_params = value.as_sql(None, connection)
                params += expression_params
                row.append(expression)
                computed.append(field)
            else:
                params.append(value)
                row.append("%s")
        rows.append(f"({', '.join(row)})")
    return head + ", ".join(rows), params, computed


_COLUMN = attrgetter("column")
# (model _meta, vendor, columns): the INSERT's text up to its rows, and for each field the
# value types it saves as they are (_saved_as_is). Built once.
_insert_of: dict = {}

_TEXT_METHODS = {
    "pre_save": (Field.pre_save,),
    "get_db_prep_save": (Field.get_db_prep_save,),
    "get_db_prep_value": (Field.get_db_prep_value,),
    "get_prep_value": (CharField.get_prep_value, TextField.get_prep_value),
    "to_python": (CharField.to_python, TextField.to_python),
}
_NONE = type(None)


def _saved_as_is(field, connection) -> tuple[type, ...]:
    """The types of value that `field.get_db_prep_save` gives back as they are on `connection`,
    for fields whose saving is Django's own (none of its methods overridden): a text field
    (CharField, TextField, EmailField, …: to_python returns a str unchanged) a str; a UUIDField,
    and a foreign key to one, a UUID where the database has a uuid type; each of them None.
    Nothing for any other field: its values take the whole way."""
    cls = type(field)
    if cls.pre_save is not Field.pre_save:
        return ()
    if all(getattr(cls, name) in methods for name, methods in _TEXT_METHODS.items()):
        return (str, _NONE)
    native = connection.features.has_native_uuid_field
    if (
        cls.get_db_prep_save is Field.get_db_prep_save
        and cls.get_db_prep_value is UUIDField.get_db_prep_value
    ):
        return (uuid.UUID, _NONE) if native else (_NONE,)
    if isinstance(field, ForeignKey) and cls.get_db_prep_save is ForeignKey.get_db_prep_save:
        target = _saved_as_is(field.target_field, connection)
        return (_NONE, *(kind for kind in target if kind is uuid.UUID))
    return ()


def _saved(instances: Sequence, connection) -> None:
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def rows_insert_rollback_unsafe(instances: Sequence, connection) -> None:
    """Inserts new instances of one model whose keys they carry (UUIDs), as bulk_create does
    (no save() or signal) but without compiling its query, and marks them saved; in batches
    the database's parameter limit allows. No SQL expressions as values: only
    row_insert_rollback_unsafe reads them back."""
    if not instances:
        return
    size = max(1, connection.ops.bulk_batch_size(instances[0]._meta.concrete_fields, instances))
    with connection.cursor() as cursor:
        for start in range(0, len(instances), size):
            sql, params, computed = _rows_insert(instances[start : start + size], connection)
            assert not computed, "an SQL expression as a value of several rows"
            cursor.execute(sql, params)
    _saved(instances, connection)


def row_insert_rollback_unsafe(instance, connection) -> None:
    """Inserts one new model instance (`row_insert_sql`) and marks it saved. For rows a hot
    path writes once and never changes (audit records): no save() override or signal runs.
    Fields given as SQL expressions are read back into the instance (RETURNING)."""
    sql, params, computed = _rows_insert([instance], connection)
    if computed:
        assert connection.features.can_return_columns_from_insert, connection.vendor
        quote = connection.ops.quote_name
        sql += f" RETURNING {', '.join(quote(field.column) for field in computed)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if computed:
            for field, value in zip(computed, cursor.fetchone(), strict=True):
                setattr(instance, field.attname, field.to_python(value))
    _saved([instance], connection)


def row_save_new_rollback_unsafe(instance, connection) -> None:
    """`instance.save(force_insert=True)` for a new instance whose key it carries (a UUID),
    as Model.save_base does it: pre_save, the INSERT, post_save (so django-simple-history and
    any other receiver run), but with row_insert_sql's fixed text instead of a compiled INSERT;
    a field given as an SQL expression holds the value the database gave it by post_save.
    What a model's own save() adds is the caller's to do; no parent models (one table)."""
    meta = instance._meta
    assert not meta.parents, f"{meta.label} has parent tables"
    sender = meta.concrete_model
    signals.pre_save.send(
        sender=sender, instance=instance, raw=False, using=connection.alias, update_fields=None
    )
    row_insert_rollback_unsafe(instance, connection)
    signals.post_save.send(
        sender=sender,
        instance=instance,
        created=True,
        update_fields=None,
        raw=False,
        using=connection.alias,
    )


def row_insert_returning_rollback_unsafe(instance, connection) -> None:
    """row_insert_rollback_unsafe for a model whose primary key the database numbers (an
    AutoField, as django-simple-history's `history_id`): the key is left out of the INSERT and
    read back into the instance (RETURNING where the database has it)."""
    meta = instance._meta
    pk = meta.pk
    if not meta.auto_field or getattr(instance, pk.attname) is not None:
        row_insert_rollback_unsafe(instance, connection)
        return
    fields = [field for field in meta.concrete_fields if field is not pk]
    sql, params = rows_insert_sql([instance], connection, fields)
    returning = connection.features.can_return_columns_from_insert
    if returning:
        quote = connection.ops.quote_name
        sql += f" RETURNING {quote(meta.db_table)}.{quote(pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            value = cursor.fetchone()[0]
        else:
            value = connection.ops.last_insert_id(cursor, meta.db_table, pk.column)
    setattr(instance, pk.attname, value)
    _saved([instance], connection)


@dataclass(frozen=True)
class ModelColumns:
    """Every concrete column of a model under a table alias, for a hand-written SELECT on a hot
    path, and the model instances read back from its rows as the ORM builds them (the same
    database converters and `from_db_value`, `Model.from_db`): the statement's text is fixed, so
    nothing is compiled per request and a connection prepares it once."""

    model: type
    sql: str  # "alias"."column", … in _meta.concrete_fields order
    attnames: tuple[str, ...]
    converters: tuple[tuple, ...]  # per column: ((converter, expression), …)

    def __len__(self) -> int:
        return len(self.attnames)

    def instance(self, row: Sequence, start: int, connection):
        """The model instance held by row[start : start + len(self)]."""
        values = list(row[start : start + len(self.attnames)])
        for index, converters in enumerate(self.converters):
            for converter, expression in converters:
                values[index] = converter(values[index], expression, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def model_columns(model, alias: str, connection) -> ModelColumns:
    """ModelColumns of `model` under `alias`, built once per model and alias on each
    connection wrapper (its converters are that backend's methods)."""
    built = connection.__dict__.setdefault("_articurated_model_columns", {})
    found = built.get((model, alias))
    if found is None:
        found = built[(model, alias)] = _model_columns_build(model, alias, connection)
    return found


def _model_columns_build(model, alias: str, connection) -> ModelColumns:
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converters = []
    for field in fields:
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append(tuple((converter, column) for converter in found))
    return ModelColumns(
        model=model,
        sql=", ".join(f"{quote(alias)}.{quote(field.column)}" for field in fields),
        attnames=tuple(field.attname for field in fields),
        converters=tuple(converters),
    )


def select_related_rows(
    model, relation: str, *, where: str, params: Sequence, extras: Sequence[str] = (), connection
) -> list[tuple]:
    """What `model.objects.select_related(relation).filter(…)` reads, in one SELECT of fixed
    text: a list of (instance with its related one attached, then the value of each `extras`
    column). `where` and `extras` are SQL over the aliases `m` (the model) and `r` (the related
    model), built by the caller from model metadata, never from input; values go in `params`."""
    field = model._meta.get_field(relation)
    related = field.related_model
    own = model_columns(model, "m", connection)
    theirs = model_columns(related, "r", connection)
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join([own.sql, theirs.sql, *extras])} "  # noqa: S608 - see docstring
        f"FROM {quote(model._meta.db_table)} m JOIN {quote(related._meta.db_table)} r "
        f"ON r.{quote(field.target_field.column)} = m.{quote(field.column)} WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    start = len(own) + len(theirs)
    for row in rows:
        instance = own.instance(row, 0, connection)
        setattr(instance, relation, theirs.instance(row, len(own), connection))
        found.append((instance, *row[start:]))
    return found


def server_execute(url: str, sql: str) -> None:
    """Runs one statement (CREATE or DROP DATABASE) on the PostgreSQL server of `url`, through
    its `postgres` database, outside any transaction. For the bench scenarios and drills that
    make and drop databases of their own; no Django needed."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _append_only_sql(table: str, message: str, pk: str) -> dict:
    # Names come from code (migrations), never from input; checked anyway, as they are spliced.
    assert _IDENTIFIER.fullmatch(table) and _IDENTIFIER.fullmatch(pk), (table, pk)
    quoted = message.replace("'", "''")
    return {
        "postgresql": f"""
CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{quoted} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change();
""",
        # SQLite's REPLACE (INSERT OR REPLACE, REPLACE INTO, an OR REPLACE conflict clause)
        # deletes the old row without firing DELETE triggers unless recursive_triggers is on, so
        # an INSERT whose key already exists is refused before conflict resolution runs.
        # (ON CONFLICT DO UPDATE fires the UPDATE trigger; PostgreSQL has no REPLACE.)
        "sqlite": [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{quoted} (UPDATE refused)'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{quoted} (DELETE refused)'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {pk} = NEW.{pk}) "
            f"BEGIN SELECT RAISE(ABORT, '{quoted} (REPLACE refused)'); END;",
        ],
    }


def append_only_install(connection, *, table: str, message: str, pk: str = "id") -> None:
    """Makes `table` append-only in the database itself, whatever client writes to it: UPDATE,
    DELETE, TRUNCATE (PostgreSQL), REPLACE (SQLite) and upserts are refused with `message`.
    Idempotent; call it from a RunPython migration of the table's app (and again after a test
    removed it)."""
    sql = _append_only_sql(table, message, pk)
    vendor_sql_run(connection, postgresql=sql["postgresql"], sqlite=sql["sqlite"])


def append_only_remove(connection, *, table: str) -> None:
    """Drops what append_only_install made (the migration's reverse; transactional tests)."""
    vendor_sql_run(
        connection,
        postgresql=f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};
DROP FUNCTION IF EXISTS {table}_refuse_change();
""",
        sqlite=[
            f"DROP TRIGGER IF EXISTS {table}_no_{name};" for name in ("update", "delete", "replace")
        ],
    )


class AppendOnlyTriggers:
    """Triggers that make one table append-only whatever client writes to it: PostgreSQL
    refuses UPDATE, DELETE and TRUNCATE; SQLite refuses UPDATE, DELETE, and an INSERT OR
    REPLACE over an existing row (REPLACE deletes the old row without firing DELETE triggers,
    so a BEFORE INSERT trigger refuses an insert whose primary key is taken).

    Built from the table name alone, so any append-only table (audit records, stock
    movements) gets the same mechanism: `AppendOnlyTriggers("inventory_stockmovement",
    prefix="movement", message="stock movements are append-only").install(connection)`.
    """

    def __init__(self, table: str, *, prefix: str, message: str, pk: str = "id") -> None:
        self.table, self.prefix, self.message, self.pk = table, prefix, message, pk

    @property
    def postgresql_install(self) -> str:
        t, p, m = self.table, self.prefix, self.message
        return f"""
CREATE OR REPLACE FUNCTION {p}_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{m} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER {p}_no_update_delete BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION {p}_refuse_change();
CREATE OR REPLACE TRIGGER {p}_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION {p}_refuse_change();
"""

    @property
    def postgresql_remove(self) -> str:
        t, p = self.table, self.prefix
        return f"""
DROP TRIGGER IF EXISTS {p}_no_truncate ON {t};
DROP TRIGGER IF EXISTS {p}_no_update_delete ON {t};
DROP FUNCTION IF EXISTS {p}_refuse_change();
"""

    @property
    def sqlite_install(self) -> list[str]:
        t, p, m, pk = self.table, self.prefix, self.message, self.pk
        replace_guard = f"WHEN EXISTS (SELECT 1 FROM {t} WHERE {pk} = NEW.{pk})"  # noqa: S608
        return [
            f"CREATE TRIGGER IF NOT EXISTS {p}_no_update BEFORE UPDATE ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{m} (UPDATE refused)'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {p}_no_delete BEFORE DELETE ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{m} (DELETE refused)'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {p}_no_replace BEFORE INSERT ON {t} "
            f"{replace_guard} "
            f"BEGIN SELECT RAISE(ABORT, '{m} (REPLACE refused)'); END;",
        ]

    @property
    def sqlite_remove(self) -> list[str]:
        p = self.prefix
        return [
            f"DROP TRIGGER IF EXISTS {p}_{kind};"
            for kind in ("no_update", "no_delete", "no_replace")
        ]

    def install(self, connection) -> None:
        vendor_sql_run(connection, postgresql=self.postgresql_install, sqlite=self.sqlite_install)

    def remove(self, connection) -> None:
        vendor_sql_run(connection, postgresql=self.postgresql_remove, sqlite=self.sqlite_remove)
