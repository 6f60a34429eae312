"""Database triggers that make the audit table append-only, whatever client writes to it
(articurated.db.append_only_install: UPDATE, DELETE, TRUNCATE, SQLite's REPLACE, upserts)."""

from articurated.db import append_only_install, append_only_remove, vendor_sql_run

TABLE = "audit_auditrecord"
MESSAGE = "audit records are append-only"

# Names the triggers had before the shared helper (migration 0002 on existing databases).
_LEGACY_REMOVE_POSTGRES = f"""
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE};
DROP FUNCTION IF EXISTS audit_refuse_change();
"""
_LEGACY_REMOVE_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_no_update;",
    "DROP TRIGGER IF EXISTS audit_no_delete;",
]


def triggers_install(connection) -> None:
    vendor_sql_run(connection, postgresql=_LEGACY_REMOVE_POSTGRES, sqlite=_LEGACY_REMOVE_SQLITE)
    append_only_install(connection, table=TABLE, message=MESSAGE)


def triggers_remove(connection) -> None:
    vendor_sql_run(connection, postgresql=_LEGACY_REMOVE_POSTGRES, sqlite=_LEGACY_REMOVE_SQLITE)
    append_only_remove(connection, table=TABLE)
