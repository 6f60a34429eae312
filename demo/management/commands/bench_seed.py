"""Bench data: `manage.py bench_seed --orders N` appends N orders as real use leaves them.

Set-based SQL on PostgreSQL (INSERT … SELECT over generate_series, one transaction): about
100k orders in well under 30 s, 1M in a few minutes. Each order has 1-3 lines and is in a
state of its lifecycle (10 % pending, 15 % paid, 10 % in the warehouse, 20 % shipped, 40 %
delivered, 5 % cancelled); every state change it went through has its audit record and its
history row, shipped orders have a GENERATED invoice (and its audit record), and the ORD and
INV counters continue after the seeded numbers, so orders created afterwards through the API
get the next numbers. Orders are created by the user `bench` (role Manager), whose API token
the command prints in its JSON summary, for the load client.
"""

import json
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from articurated.models import NumberSequence
from articurated.roles import MANAGER, roles_sync
from articurated.sequences import number_sequence_name
from audit.models import AuditRecord
from catalogue.models import Sku
from inventory.loading import sku_bulk_load
from invoicing.models import Invoice
from orders.models import LineItem, Order

# The lifecycle as real use walks it: (step, transition, previous state, new state, offset).
CHAIN = [
    (0, "create", None, "PENDING_PAYMENT", "0 seconds"),
    (1, "pay", "PENDING_PAYMENT", "PAID", "1 hour"),
    (2, "start_processing", "PAID", "PROCESSING_IN_WAREHOUSE", "2 hours"),
    (3, "ship", "PROCESSING_IN_WAREHOUSE", "SHIPPED", "1 day"),
    (4, "deliver", "SHIPPED", "DELIVERED", "3 days"),
]
# (upper bound of a bucket of 100, state, transitions made)
STATES = [
    (10, "PENDING_PAYMENT", 0),
    (25, "PAID", 1),
    (35, "PROCESSING_IN_WAREHOUSE", 2),
    (55, "SHIPPED", 3),
    (95, "DELIVERED", 4),
    (100, "CANCELLED", 1),
]
ADDRESS = {
    "name": "'Customer ' || s.i",
    "line1": "(s.i %% 997) || ' Maker''s Lane'",
    "line2": "''",
    "city": "'Bristol'",
    "region": "''",
    "postal_code": "'BS1 4DJ'",
    "country": "'GB'",
    "phone": "'+44 117 000 0000'",
}


def _status_case() -> str:
    cases = " ".join(f"WHEN s.bucket < {bound} THEN '{state}'" for bound, state, _ in STATES)
    return f"CASE {cases} END"


def _steps_case() -> str:
    cases = " ".join(f"WHEN s.bucket < {bound} THEN {steps}" for bound, _, steps in STATES)
    return f"CASE {cases} END"


def _order_columns() -> tuple[list[str], list[str]]:
    """Column names and SQL expressions of an order row, from the seed table `s` with its
    `subtotal`; the history rows reuse them with the state of each step."""
    t = {
        "paid": "s.created_at + interval '1 hour'",
        "processing": "s.created_at + interval '2 hours'",
        "shipped": "s.created_at + interval '1 day'",
        "delivered": "s.created_at + interval '3 days'",
    }
    reached = {"paid": 1, "processing": 2, "shipped": 3, "delivered": 4}

    def at(name: str) -> str:
        return (
            f"CASE WHEN s.status <> 'CANCELLED' AND s.steps >= {reached[name]} THEN {t[name]} END"
        )

    columns = {
        "id": "s.id",
        "number": "s.number",
        "status": "s.status",
        "customer_email": "'customer' || (s.i %% 20000) || '@example.com'",
        "customer_name": "'Customer ' || s.i",
        "currency": "'USD'",
        "subtotal": "s.subtotal",
        "shipping_amount": "5.00",
        "tax_amount": "0.00",
        "total_amount": "s.subtotal + 5.00",
        "notes": "''",
        **{f"shipping_{k}": v for k, v in ADDRESS.items()},
        **{f"billing_{k}": v for k, v in ADDRESS.items()},
        "payment_method": "CASE WHEN s.steps >= 1 AND s.status <> 'CANCELLED' THEN 'card' END",
        "payment_reference": "CASE WHEN s.steps >= 1 AND s.status <> 'CANCELLED' "
        "THEN 'pay_' || s.i END",
        "carrier": "CASE WHEN s.steps >= 3 THEN 'UPS' END",
        "tracking_number": "CASE WHEN s.steps >= 3 THEN '1ZBENCH' || lpad(s.i::text, 10, '0') END",
        "cancellation_reason": "CASE WHEN s.status = 'CANCELLED' THEN 'customer asked' END",
        "created_at": "s.created_at",
        "paid_at": at("paid"),
        "processing_started_at": at("processing"),
        "shipped_at": at("shipped"),
        "delivered_at": at("delivered"),
        "cancelled_at": "CASE WHEN s.status = 'CANCELLED' "
        "THEN s.created_at + interval '2 hours' END",
        "created_by_id": "%(user)s",
    }
    return list(columns), list(columns.values())


class Command(BaseCommand):
    help = "Append N orders (with lines, invoices, audit and history rows) with set-based SQL."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, required=True)

    def handle(self, *args, orders: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_seed writes with PostgreSQL SQL; set DATABASE_URL=postgres://…"
            )
        if orders < 1:
            raise CommandError("--orders must be at least 1.")
        started = time.monotonic()
        self.timings: list[tuple[str, float]] = []
        user, token = self._bench_user()
        with transaction.atomic():
            self._bench_skus()
            counts = self._seed(orders, user_id=user.pk)
            committing = time.monotonic()
        self.timings.append(
            ("COMMIT (deferred foreign key checks)", round(time.monotonic() - committing, 2))
        )
        with connection.cursor() as cursor:  # fresh statistics and visibility map for the planner
            cursor.execute("SET statement_timeout = 0")
            vacuuming = time.monotonic()
            # VACUUM sets the visibility map, so list counts are index-only scans.
            for model in (Order, AuditRecord):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
            for model in (LineItem, Invoice, Order.history.model):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
            self.timings.append(("VACUUM ANALYZE", round(time.monotonic() - vacuuming, 2)))
        counts.update(seconds=round(time.monotonic() - started, 1), token=token.key)
        if options["verbosity"] > 1:
            counts["steps"] = self.timings
        self.stdout.write(json.dumps(counts))

    def _bench_skus(self) -> None:
        """The catalogue SKUs bench/lua/order_create.lua orders: tracked, with stock for every
        order a run can make (POST /orders then allocates stock, as in the shop)."""
        wanted = [
            {"sku": "VASE-01", "name": "Hand-thrown vase", "price": "49.50"},
            {"sku": "BOWL-07", "name": "Raku tea bowl", "price": "32.00"},
            {"sku": "CUP-12", "name": "Stoneware mug", "price": "18.00"},
        ]
        taken = set(
            Sku.objects.live()
            .filter(code__in=[w["sku"] for w in wanted])
            .values_list("code", flat=True)
        )
        rows = [{**w, "on_hand": 10_000_000} for w in wanted if w["sku"] not in taken]
        if rows:
            sku_bulk_load(rows=rows, category_name="Bench")

    def _bench_user(self):
        if not Group.objects.filter(name=MANAGER).exists():
            roles_sync()
        user, _ = get_user_model().objects.get_or_create(
            username="bench", defaults={"is_staff": True}
        )
        user.groups.add(Group.objects.get(name=MANAGER))
        token, _ = Token.objects.get_or_create(user=user)
        return user, token

    def _seed(self, n: int, *, user_id: int) -> dict:
        year = timezone.now().year
        now = timezone.now()
        first = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        last = now - timedelta(days=4)
        if last - first < timedelta(days=30):
            first = last - timedelta(days=300)
        params = {"user": user_id, "year": year, "first": first, "last": last, "n": n}
        tables = {
            "order": Order._meta.db_table,
            "line": LineItem._meta.db_table,
            "history": Order.history.model._meta.db_table,
            "audit": AuditRecord._meta.db_table,
            "invoice": Invoice._meta.db_table,
            "sequence": NumberSequence._meta.db_table,
        }
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SET LOCAL synchronous_commit = off")
            for prefix in ("ORD", "INV"):
                cursor.execute(
                    f"INSERT INTO {tables['sequence']} (prefix, year, last_value) "
                    "VALUES (%s, %s, 0) ON CONFLICT (prefix, year) DO NOTHING",
                    [prefix, year],
                )
            # Lock the counters for the whole seed, as order_create would for one order.
            cursor.execute(
                f"SELECT prefix, last_value FROM {tables['sequence']} "
                "WHERE year = %s AND prefix IN ('ORD', 'INV') FOR UPDATE",
                [year],
            )
            start = dict(cursor.fetchall())
            # Orders created since the year's sequence exists counted there, not in the row.
            ord_sequence = number_sequence_name("ORD", year)
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [ord_sequence])
            if cursor.fetchone()[0]:
                cursor.execute(
                    "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                    f"FROM {connection.ops.quote_name(ord_sequence)}"
                )
                start["ORD"] = max(start["ORD"], cursor.fetchone()[0])
            else:
                ord_sequence = None
            params.update(ord_start=start["ORD"], inv_start=start["INV"])
            # Bulk-load habits: rows are written consistent by construction, so the per-row
            # foreign-key triggers are skipped when the role may (a superuser), and secondary
            # indexes are dropped and built again once, sorted, instead of updated row by row.
            cursor.execute("SAVEPOINT bench_seed_role")
            try:
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("RELEASE SAVEPOINT bench_seed_role")
            except DatabaseError:
                cursor.execute("ROLLBACK TO SAVEPOINT bench_seed_role")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            loaded = [tables[name] for name in ("order", "line", "history", "audit", "invoice")]
            cursor.execute(f"SELECT count(*) FROM {tables['order']}")
            # Rebuilding costs the whole table: worth it only when the load at least doubles it.
            rebuild = n >= cursor.fetchone()[0]
            indexes = self._secondary_indexes(cursor, loaded) if rebuild else []
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            self._run(cursor, tables, params)
            building = time.monotonic()
            for _, definition in indexes:
                cursor.execute(definition)
            self.timings.append(("CREATE INDEX (secondary)", round(time.monotonic() - building, 2)))
            cursor.execute("SELECT count(*) FILTER (WHERE steps >= 3) FROM bench_seed")
            invoices = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM bench_seed_lines")
            lines = cursor.fetchone()[0]
            cursor.execute(
                f"UPDATE {tables['sequence']} SET last_value = CASE prefix "
                "WHEN 'ORD' THEN %(ord)s ELSE %(inv)s END "
                "WHERE year = %(year)s AND prefix IN ('ORD', 'INV')",
                {"ord": start["ORD"] + n, "inv": start["INV"] + invoices, "year": year},
            )
            if ord_sequence:
                cursor.execute("SELECT setval(%s, %s)", [ord_sequence, start["ORD"] + n])
            cursor.execute(f"SELECT count(*) FROM {tables['audit']}")
            audit = cursor.fetchone()[0]
            cursor.execute("DROP TABLE bench_seed, bench_seed_lines, bench_seed_steps")
        return {"orders": n, "lines": lines, "invoices": invoices, "audit_records_total": audit}

    @staticmethod
    def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
        """Indexes of the tables that no constraint (primary key, unique) owns."""
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
            """,
            [tables],
        )
        return cursor.fetchall()

    def _timed(self, cursor, sql: str, params=None) -> None:
        started = time.monotonic()
        cursor.execute(sql, params)
        label = " ".join(sql.split()[:4])
        self.timings.append((label, round(time.monotonic() - started, 2)))

    def _run(self, cursor, t: dict, params: dict) -> None:
        # One row per new order: its sequence value, id, time and state.
        self._timed(
            cursor,
            """
            CREATE TEMP TABLE bench_seed ON COMMIT DROP AS
            SELECT k.i, gen_random_uuid() AS id,
                   'ORD-' || %(year)s || '-' || lpad(k.i::text, greatest(6, length(k.i::text)), '0')
                       AS number,
                   %(first)s::timestamptz
                     + (%(last)s::timestamptz - %(first)s::timestamptz)
                       * ((k.i - %(ord_start)s - 0.5) / %(n)s) AS created_at,
                   k.bucket, 0::numeric AS subtotal, ''::text AS status, 0 AS steps
            FROM (SELECT i, (i * 37) %% 100 AS bucket
                  FROM generate_series(%(ord_start)s + 1, %(ord_start)s + %(n)s) AS i) k
            """,
            params,
        )
        self._timed(
            cursor, f"UPDATE bench_seed s SET status = {_status_case()}, steps = {_steps_case()}"
        )
        self._timed(
            cursor,
            """
            CREATE TEMP TABLE bench_seed_lines ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, s.id AS order_id, j AS position,
                   'SKU-' || ((s.i * 7 + j * 13) %% 500) AS sku,
                   'Handmade piece ' || ((s.i * 7 + j * 13) %% 500) AS name,
                   1 + (s.i + j) %% 3 AS quantity,
                   (10 + (s.i * 7 + j * 13) %% 90 + 0.50)::numeric(16, 2) AS unit_price
            FROM bench_seed s, generate_series(0, s.i %% 3) AS j
            """,
            params,
        )
        self._timed(
            cursor,
            """
            UPDATE bench_seed s SET subtotal = l.total
            FROM (SELECT order_id, sum(quantity * unit_price) AS total
                  FROM bench_seed_lines GROUP BY order_id) l
            WHERE l.order_id = s.id
            """,
        )
        columns, values = _order_columns()
        self._timed(
            cursor,
            f"INSERT INTO {t['order']} ({', '.join(columns)}, updated_at) "
            f"SELECT {', '.join(values)}, s.created_at + interval '3 days' FROM bench_seed s",
            params,
        )
        self._timed(
            cursor,
            f"""
            INSERT INTO {t["line"]}
              (id, order_id, position, sku, name, quantity, unit_price, line_total,
               returned_quantity, stock_tracked)
            SELECT id, order_id, position, sku, name, quantity, unit_price,
                   quantity * unit_price, 0, false
            FROM bench_seed_lines
            """,
        )
        chain = ", ".join(
            f"({step}, '{name}', {'NULL' if prev is None else repr(prev)}, '{new}', "
            f"interval '{offset}')"
            for step, name, prev, new, offset in CHAIN
        )
        # Each step the order went through (cancelled orders: create, then cancel).
        steps = f"""
            SELECT s.*, c.step,
                   CASE WHEN s.status = 'CANCELLED' AND c.step = 1 THEN 'cancel'
                        ELSE c.name END AS transition,
                   c.prev,
                   CASE WHEN s.status = 'CANCELLED' AND c.step = 1 THEN 'CANCELLED'
                        ELSE c.new END AS new,
                   s.created_at + CASE WHEN s.status = 'CANCELLED' AND c.step = 1
                        THEN interval '2 hours' ELSE c.offset_by END AS at
            FROM bench_seed s
            JOIN (VALUES {chain}) AS c(step, name, prev, new, offset_by) ON c.step <= s.steps
        """
        self._timed(cursor, f"CREATE TEMP TABLE bench_seed_steps ON COMMIT DROP AS {steps}")
        self._timed(
            cursor,
            f"""
            INSERT INTO {t["audit"]}
              (id, entity_type, entity_id, entity_number, transition, previous_state,
               new_state, actor_id, actor_type, source, reason, metadata, ip_address,
               request_id, created_at)
            SELECT gen_random_uuid(), 'ORDER', st.id, st.number, st.transition, st.prev,
                   st.new, %(user)s, 'USER', 'API',
                   CASE WHEN st.transition = 'cancel' THEN 'customer asked' END,
                   CASE WHEN st.step = 0
                        THEN jsonb_build_object('total_amount', (st.subtotal + 5.00)::text,
                                                'currency', 'USD')
                        ELSE '{{}}'::jsonb END,
                   '127.0.0.1', 'seed-' || st.i || '-' || st.step, st.at
            FROM bench_seed_steps st
            """,
            params,
        )
        columns, values = _order_columns()
        snapshot = [
            "st.new"
            if column == "status"
            else value.replace("s.steps", "st.step").replace("s.", "st.")
            for column, value in zip(columns, values, strict=True)
        ]
        self._timed(
            cursor,
            f"""
            INSERT INTO {t["history"]}
              ({", ".join(columns)}, history_date, history_change_reason, history_type,
               history_user_id)
            SELECT {", ".join(snapshot)}, st.at, NULL,
                   CASE WHEN st.step = 0 THEN '+' ELSE '~' END, %(user)s
            FROM bench_seed_steps st
            """,
            params,
        )
        # Shipped orders got their invoice from the job: GENERATED, numbered in ship order.
        self._timed(
            cursor,
            f"""
            INSERT INTO {t["invoice"]}
              (id, order_id, number, status, attempts, last_error, pdf, issued_at,
               generated_at, emailed_at, next_attempt_at, created_at, updated_at)
            SELECT gen_random_uuid(), v.id, v.number, 'GENERATED', 1, '',
                   'invoices/bench/' || v.number || '.pdf', v.at, v.at, v.at, v.at, v.at, v.at
            FROM (SELECT w.id, w.at, 'INV-' || %(year)s || '-'
                           || lpad(w.k::text, greatest(6, length(w.k::text)), '0') AS number
                  FROM (SELECT s.id, s.created_at + interval '1 day 1 minute' AS at,
                               %(inv_start)s + row_number() OVER (ORDER BY s.i) AS k
                        FROM bench_seed s WHERE s.steps >= 3) w) v
            """,
            params,
        )
        self._timed(
            cursor,
            f"""
            INSERT INTO {t["audit"]}
              (id, entity_type, entity_id, entity_number, transition, previous_state,
               new_state, actor_id, actor_type, source, reason, metadata, ip_address,
               request_id, created_at)
            SELECT gen_random_uuid(), 'INVOICE', i.order_id, o.number, 'generate', 'PENDING',
                   'GENERATED', NULL, 'SYSTEM', 'JOB', NULL,
                   jsonb_build_object('invoice_number', i.number, 'attempts', 1), NULL, NULL,
                   i.generated_at
            FROM {t["invoice"]} i JOIN bench_seed o ON o.id = i.order_id
            """,
        )
