"""The database's own guarantee that an order's refunds never exceed its total, whoever writes
the rows (the service checks first, under the order lock, to give a clear error)."""

from articurated.db import vendor_sql_run

POSTGRES_INSTALL = """
CREATE OR REPLACE FUNCTION payments_refund_within_total() RETURNS trigger AS $$
DECLARE
    order_total numeric;
    refunded numeric;
BEGIN
    -- Locking the order serialises concurrent refunds of one order, so two inserts cannot both
    -- pass the check without seeing each other.
    SELECT total_amount INTO order_total FROM orders_order WHERE id = NEW.order_id FOR UPDATE;
    SELECT COALESCE(SUM(amount), 0) INTO refunded FROM payments_refund
        WHERE order_id = NEW.order_id AND id <> NEW.id;
    IF refunded + NEW.amount > order_total THEN
        RAISE EXCEPTION 'refunds of an order would exceed its total (% + % > %)',
            refunded, NEW.amount, order_total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER payments_refund_within_total
    BEFORE INSERT OR UPDATE OF amount, order_id ON payments_refund
    FOR EACH ROW EXECUTE FUNCTION payments_refund_within_total();
"""
POSTGRES_REMOVE = """
DROP TRIGGER IF EXISTS payments_refund_within_total ON payments_refund;
DROP FUNCTION IF EXISTS payments_refund_within_total();
"""

# SQLite keeps decimals as floating point (33.33 + 33.33 + 33.34 > 100.00): compare whole
# cents. Writers are serialised by the database lock, so the check needs no extra locking.
_SQLITE_EXCEEDS = """
    (SELECT CAST(ROUND(COALESCE(SUM(amount), 0) * 100) AS INTEGER) FROM payments_refund
        WHERE order_id = NEW.order_id AND id IS NOT NEW.id)
    + CAST(ROUND(NEW.amount * 100) AS INTEGER)
    > (SELECT CAST(ROUND(total_amount * 100) AS INTEGER) FROM orders_order
        WHERE id = NEW.order_id)
"""
SQLITE_INSTALL = [
    "CREATE TRIGGER IF NOT EXISTS payments_refund_within_total_insert "
    "BEFORE INSERT ON payments_refund WHEN" + _SQLITE_EXCEEDS + "BEGIN SELECT RAISE(ABORT, "
    "'refunds of an order would exceed its total'); END;",
    "CREATE TRIGGER IF NOT EXISTS payments_refund_within_total_update "
    "BEFORE UPDATE OF amount, order_id ON payments_refund WHEN" + _SQLITE_EXCEEDS + "BEGIN "
    "SELECT RAISE(ABORT, 'refunds of an order would exceed its total'); END;",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS payments_refund_within_total_insert;",
    "DROP TRIGGER IF EXISTS payments_refund_within_total_update;",
]


def triggers_install(connection) -> None:
    vendor_sql_run(connection, postgresql=POSTGRES_INSTALL, sqlite=SQLITE_INSTALL)


def triggers_remove(connection) -> None:
    vendor_sql_run(connection, postgresql=POSTGRES_REMOVE, sqlite=SQLITE_REMOVE)
