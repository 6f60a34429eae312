"""Database triggers that make the audit table append-only, whatever client writes to it."""

from articurated.db import vendor_sql_run

TABLE = "audit_auditrecord"
MESSAGE = "audit records are append-only"

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""
POSTGRES_REMOVE = f"""
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE};
DROP FUNCTION IF EXISTS audit_refuse_change();
"""

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END;",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_no_update;",
    "DROP TRIGGER IF EXISTS audit_no_delete;",
]


def triggers_install(connection) -> None:
    vendor_sql_run(connection, postgresql=POSTGRES_INSTALL, sqlite=SQLITE_INSTALL)


def triggers_remove(connection) -> None:
    vendor_sql_run(connection, postgresql=POSTGRES_REMOVE, sqlite=SQLITE_REMOVE)
