"""The set-based core of an import: the file streamed into a staging table, validated and
grouped with a few statements over the whole table, then applied batch by batch with
`INSERT … ON CONFLICT (id) DO UPDATE … WHERE … IS DISTINCT FROM`, so an unchanged row is not
rewritten (no new version, no dead tuple) and counts as unchanged.

PostgreSQL loads the staging table with `COPY`; SQLite gets the same statements with batched
inserts. The staging tables are TEMP tables of the worker's connection: a resumed job builds
them again from the file (it is deterministic) and skips the batches already committed.

Steps (each a function below):
1. `stage_load`: rows of the file → imp_raw (row number, the raw cells, a parse problem).
2. `stage_prepare`: the last row of each SKU (any case) wins → imp_row, matched to the live SKU
   with that code, else to the most recently deleted one (restored); every check as one CASE;
   categories resolved (created when missing); rows grouped into products → imp_grp; the
   valid rows with their product and batch → imp_apply.
3. `batch_apply`: one transaction per batch of products: lock the stock levels in key order,
   refuse rows whose stock would fall below what orders hold, upsert products, upsert SKUs,
   create stock levels, write IMPORTED movements and set on hand, count.
"""

import itertools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from catalogue.models import PATH_SEPARATOR, Category
from inventory.models import MovementReason

logger = logging.getLogger(__name__)
STAGE_COLUMNS = (
    "sku", "name", "description", "price", "currency", "category", "product", "active", "stock",
    "attributes",
)  # fmt: skip
# Rows per COPY chunk: progress is written between chunks.
COPY_CHUNK_ROWS = 20_000
# Bounded repetition ({1,64}) is costly in PostgreSQL's regex engine (the automaton is
# replicated per repeat): patterns use + and the lengths are checked apart.
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
SKU_MAX = 64
PRICE_PATTERN = r"^[0-9]+([.][0-9][0-9]?)?$"
PRICE_MAX = 17
STOCK_PATTERN = r"^[0-9]+$"
STOCK_MAX = 9
CURRENCY_PATTERN = r"^[A-Z][A-Z][A-Z]$"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
DEFAULT_CATEGORY = "Uncategorised"
NAME_MAX = 200


class Sql:
    """The few places where PostgreSQL and SQLite spell a thing differently."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def rx(self, expr: str, pattern: str) -> str:
        # SQLite: Django registers REGEXP (Python's re.search) on every connection.
        return f"({expr} ~ '{pattern}')" if self.pg else f"({expr} REGEXP '{pattern}')"

    def new_uuid(self) -> str:
        return "gen_random_uuid()" if self.pg else "lower(hex(randomblob(16)))"

    def as_uuid(self, expr: str) -> str:
        return f"CAST({expr} AS uuid)" if self.pg else expr

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS text)"

    def differs(self, a: str, b: str) -> str:
        return f"({a} IS DISTINCT FROM {b})" if self.pg else f"({a} IS NOT {b})"

    def money(self, expr: str) -> str:
        return f"CAST({expr} AS numeric(16,2))" if self.pg else f"CAST({expr} AS NUMERIC)"

    def json(self, expr: str) -> str:
        return f"CAST({expr} AS jsonb)" if self.pg else f"json({expr})"

    def uuid_param(self, value):
        return value if self.pg or value is None else uuid.UUID(str(value)).hex

    def time_param(self, value):
        return connection.ops.adapt_datetimefield_value(value)


@dataclass
class BatchCounts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0


def _execute(sql: str, params: Iterable = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _fetch(sql: str, params: Iterable = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def stage_drop() -> None:
    for table in ("imp_raw", "imp_row", "imp_match", "imp_cat", "imp_grp", "imp_apply", "imp_chg"):
        _execute(f"DROP TABLE IF EXISTS {table}")


# --- 1. load ---------------------------------------------------------------------------------


def session_tune() -> None:
    """PostgreSQL settings of the worker's session for a bulk job: memory for the staging
    tables' sorts and hashes (instead of spilling to disk), local buffers for TEMP tables
    (only settable before the session's first TEMP table, hence the guard), and commits that
    do not wait for the WAL flush: a batch and its counts still commit or vanish together, a
    server crash can only lose the last batches, which a retry applies again."""
    _execute("SET work_mem = '128MB'")
    _execute("SET synchronous_commit = off")
    try:
        with transaction.atomic():
            _execute("SET temp_buffers = '256MB'")
    except Exception:  # noqa: BLE001 - already used TEMP tables in this session: keep 8 MB
        logger.info("temp_buffers unchanged (TEMP tables used earlier in this session).")


def stage_load(rows: Iterable[tuple], *, on_chunk: Callable[[int], None]) -> int:
    """Streams the parsed rows into imp_raw, COPY_CHUNK_ROWS at a time (one COPY each on
    PostgreSQL, written row by row as they are parsed: nothing accumulates), calling
    `on_chunk(rows so far)` between chunks (progress, cancellation). Returns the row count."""
    sql = Sql(connection.vendor)
    stage_drop()
    if sql.pg:
        session_tune()
    columns = ", ".join(f"{name} text" for name in STAGE_COLUMNS)
    _execute(
        f"CREATE TEMP TABLE imp_raw (row_no integer PRIMARY KEY, {columns}, "
        "err_col text, err_msg text)"
    )
    names = ", ".join(("row_no", *STAGE_COLUMNS, "err_col", "err_msg"))
    rows = iter(rows)
    loaded = 0
    while True:
        chunk = (
            (number, *values, *(problem or (None, None)))
            for number, values, problem in itertools.islice(rows, COPY_CHUNK_ROWS)
        )
        written = _rows_write(sql, names, chunk)
        if not written:
            return loaded
        loaded += written
        on_chunk(loaded)


def _rows_write(sql: Sql, names: str, chunk: Iterable[tuple]) -> int:
    written = 0
    with connection.cursor() as cursor:
        if sql.pg:
            with cursor.copy(f"COPY imp_raw ({names}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
                    written += 1
        else:
            chunk = list(chunk)
            marks = ", ".join(["%s"] * (names.count(",") + 1))
            cursor.executemany(
                f"INSERT INTO imp_raw ({names}) VALUES ({marks})",  # noqa: S608
                chunk,
            )
            written = len(chunk)
    return written


# --- 2. prepare ------------------------------------------------------------------------------


def _checks(sql: Sql) -> list[tuple[str, str, str]]:
    """(column, condition that makes the row invalid, message), first match reported."""
    active_words = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
    return [
        ("sku", "w.sku IS NULL", "Required."),
        ("sku", f"length(w.sku) > {SKU_MAX} OR NOT {sql.rx('w.sku', SKU_PATTERN)}",
         "1-64 characters of letters, digits, '.', '_' and '-'."),
        ("name", "m.id IS NULL AND w.name IS NULL", "Required for a new SKU."),
        ("name", f"length(w.name) > {NAME_MAX}", f"At most {NAME_MAX} characters."),
        ("price", f"w.price IS NOT NULL AND (length(w.price) > {PRICE_MAX} "
                  f"OR NOT {sql.rx('w.price', PRICE_PATTERN)})",
         "A decimal amount with at most two places, like 49.50."),
        ("currency",
         f"w.currency IS NOT NULL AND NOT {sql.rx('upper(w.currency)', CURRENCY_PATTERN)}",
         "A three-letter currency code (ISO 4217)."),
        ("active", f"w.active IS NOT NULL AND lower(w.active) NOT IN ({active_words})",
         "One of true, false, 1, 0, yes, no."),
        ("stock", f"w.stock IS NOT NULL AND (length(w.stock) > {STOCK_MAX} "
                  f"OR NOT {sql.rx('w.stock', STOCK_PATTERN)})",
         "A whole number of units, 0 or more."),
    ]  # fmt: skip


def stage_prepare(*, group_size: int) -> dict:
    """Builds imp_row, imp_grp and imp_apply from imp_raw (see the module docstring). Creates
    the missing categories (committed: they are harmless if the import stops). Returns
    {"batches", "invalid_rows" (with their superseded duplicates), "invalid"}."""
    sql = Sql(connection.vendor)
    # The live SKU with the code (any case), else the most recently deleted one. Live and
    # deleted SKUs are read apart: each half has its own partial index (the unique index of
    # live codes, the index of deleted rows), and no index holds every code.
    _execute(
        """CREATE TEMP TABLE imp_match AS
        SELECT lc, id, product_id, deleted_at FROM (
            SELECT lc, id, product_id, deleted_at,
                   row_number() OVER (PARTITION BY lc ORDER BY
                       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, deleted_at DESC) AS rn
            FROM (
                SELECT lower(code) AS lc, id, product_id, deleted_at FROM catalogue_sku
                WHERE deleted_at IS NULL
                  AND lower(code) IN (SELECT lower(sku) FROM imp_raw WHERE sku IS NOT NULL)
                UNION ALL
                SELECT lower(code) AS lc, id, product_id, deleted_at FROM catalogue_sku
                WHERE deleted_at IS NOT NULL
                  AND lower(code) IN (SELECT lower(sku) FROM imp_raw WHERE sku IS NOT NULL)
            ) candidates
        ) ranked WHERE rn = 1"""
    )
    checks = _checks(sql)
    # Which check failed first, evaluated once per row (0: the parser's own message).
    err_no = (
        "CASE WHEN w.err_msg IS NOT NULL THEN 0 "
        + " ".join(f"WHEN {cond} THEN {n}" for n, (_, cond, _) in enumerate(checks, start=1))
        + " END"
    )
    err_col = (
        "CASE v.err_no WHEN 0 THEN v.err_col "
        + " ".join(f"WHEN {n} THEN '{col}'" for n, (col, _, _) in enumerate(checks, start=1))
        + " END"
    )
    err_msg = (
        "CASE v.err_no WHEN 0 THEN v.err_msg "
        + " ".join(
            "WHEN {} THEN '{}'".format(n, msg.replace("'", "''"))
            for n, (_, _, msg) in enumerate(checks, start=1)
        )
        + " END"
    )
    active = (
        f"CASE WHEN lower(w.active) IN ({', '.join(repr(x) for x in TRUE_WORDS)}) THEN TRUE "
        f"WHEN lower(w.active) IN ({', '.join(repr(x) for x in FALSE_WORDS)}) THEN FALSE END"
    )
    key = "coalesce(lower(sku), 'row:' || " + sql.as_text("row_no") + ")"
    # PostgreSQL: OFFSET 0 keeps the subquery from being flattened into the outer CASEs, so
    # the checks run once per row.
    fence = " OFFSET 0" if sql.pg else ""
    _execute(
        f"""CREATE TEMP TABLE imp_row AS
        SELECT v.row_no, v.sku, v.name, v.description, v.currency, v.category, v.dups,
               v.price, v.stock, v.attributes, v.product, v.active,
               v.old_sku_id, v.old_product_id, v.group_key, v.active_value,
               {err_col} AS err_col,
               {err_msg} AS err_msg
        FROM (
            SELECT w.*, m.id AS old_sku_id, m.product_id AS old_product_id,
                   CASE WHEN w.product IS NOT NULL THEN 'p:' || lower(w.product)
                        ELSE 's:' || lower(w.sku) END AS group_key,
                   {active} AS active_value,
                   {err_no} AS err_no
            FROM (
                SELECT imp_raw.*,
                       row_number() OVER (PARTITION BY {key} ORDER BY row_no DESC) AS rn,
                       count(*) OVER (PARTITION BY {key}) - 1 AS dups
                FROM imp_raw
            ) w
            LEFT JOIN imp_match m ON m.lc = lower(w.sku)
            WHERE w.rn = 1{fence}
        ) v"""  # noqa: S608
    )
    _categories_resolve(sql)
    _execute(
        f"""CREATE TEMP TABLE imp_grp AS
        SELECT group_key,
               coalesce({sql.as_uuid("min(" + sql.as_text("old_product_id") + ")")},
                        {sql.as_uuid(sql.new_uuid())}) AS product_id,
               max(row_no) AS last_row,
               (row_number() OVER (ORDER BY min(row_no)) - 1) / {int(group_size)} AS batch_no
        FROM imp_row WHERE err_msg IS NULL GROUP BY group_key"""  # noqa: S608
    )
    _execute(
        f"""CREATE TEMP TABLE imp_apply AS
        SELECT r.row_no, r.dups, g.batch_no, g.product_id AS group_product_id,
               r.old_sku_id IS NULL AS is_new,
               coalesce(r.old_sku_id, {sql.as_uuid(sql.new_uuid())}) AS sku_id,
               r.sku AS code, r.name, r.description, c.category_id,
               CASE WHEN r.price IS NOT NULL THEN {sql.money("r.price")} END AS price,
               upper(r.currency) AS currency, r.active_value,
               CASE WHEN r.stock IS NOT NULL THEN CAST(r.stock AS integer) END AS stock,
               CASE WHEN r.attributes IS NOT NULL THEN {sql.json("r.attributes")} END
                   AS attributes
        FROM imp_row r
        JOIN imp_grp g ON g.group_key = r.group_key
        LEFT JOIN imp_cat c ON c.category = r.category
        WHERE r.err_msg IS NULL"""  # noqa: S608
    )
    _execute("CREATE INDEX imp_apply_batch ON imp_apply (batch_no, sku_id)")
    _execute("CREATE INDEX imp_apply_row ON imp_apply (row_no)")
    _execute("CREATE INDEX imp_grp_batch ON imp_grp (batch_no)")
    if sql.pg:
        # A small sample is enough for the planner to pick the batch_no index.
        _execute("SET default_statistics_target = 10")
        _execute("ANALYZE imp_apply")
        _execute("ANALYZE imp_grp")
        _execute("RESET default_statistics_target")
    batches = _fetch("SELECT coalesce(max(batch_no) + 1, 0) FROM imp_grp")[0][0]
    invalid, invalid_rows = _fetch(
        "SELECT count(*), coalesce(sum(dups + 1), 0) FROM imp_row WHERE err_msg IS NOT NULL"
    )[0]
    return {"batches": int(batches), "invalid": int(invalid), "invalid_rows": int(invalid_rows)}


def _category_parts(path: str) -> list[str] | None:
    separator = " > " if " > " in path and PATH_SEPARATOR not in path else PATH_SEPARATOR
    parts = [part.strip() for part in path.split(separator)]
    if any(not part or len(part) > NAME_MAX for part in parts):
        return None
    return parts


@transaction.atomic
def _categories_resolve(sql: Sql) -> None:
    """The distinct category paths of the valid rows (a few hundred, not one per row): found
    by name under their parent (any case), created when missing; → imp_cat(category,
    category_id). A malformed path makes its rows invalid. New SKUs without a category go to
    a root category named DEFAULT_CATEGORY."""
    _execute(
        f"CREATE TEMP TABLE imp_cat (category text PRIMARY KEY, category_id {_uuid_type(sql)})"
    )
    paths = [
        row[0]
        for row in _fetch(
            "SELECT DISTINCT category FROM imp_row WHERE err_msg IS NULL AND category IS NOT NULL"
        )
    ]
    needs_default = _fetch(
        "SELECT 1 FROM imp_row WHERE err_msg IS NULL AND category IS NULL "
        "AND old_sku_id IS NULL LIMIT 1"
    )
    if not paths and not needs_default:
        return
    live = Category.objects.live().only("id", "name", "parent_id", "tree_path", "depth")
    children: dict[tuple, Category] = {}
    for category in live.order_by("tree_path"):
        children.setdefault((category.parent_id, category.name.lower()), category)
    resolved, bad, created = [], [], []
    for path in paths:
        parts = _category_parts(path)
        if parts is None:
            bad.append(path)
            continue
        resolved.append((path, _category_path_ensure(parts, children, created).pk))
    if needs_default:
        resolved.append(("", _category_path_ensure([DEFAULT_CATEGORY], children, created).pk))
    # Set-based like the rows (no per-category history record): the import's audit record
    # names it.
    Category.objects.bulk_create(created, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO imp_cat (category, category_id) VALUES (%s, %s)",
            [(path, sql.uuid_param(pk)) for path, pk in resolved],
        )
    if bad:
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE imp_row SET err_col = 'category', err_msg = %s WHERE category = %s",
                [("Names separated by ' / ' or ' > ', none empty or over 200 characters.", p)
                 for p in bad],
            )  # fmt: skip
    if needs_default:
        _execute("UPDATE imp_row SET category = '' WHERE category IS NULL AND old_sku_id IS NULL")


def _uuid_type(sql: Sql) -> str:
    return "uuid" if sql.pg else "char(32)"


def _category_path_ensure(parts: list[str], children: dict, created: list) -> Category:
    """The category at the end of `parts`, from `children` or made (unsaved, appended to
    `created` in parent-first order, so one bulk_create saves them all)."""
    parent = None
    for name in parts:
        key = (parent.pk if parent else None, name.lower())
        found = children.get(key)
        if found is None:
            found = Category(name=name, parent=parent, depth=parent.depth + 1 if parent else 0)
            found.tree_path = f"{parent.tree_path if parent else '/'}{found.pk.hex}/"
            children[key] = found
            created.append(found)
        parent = found
    return parent


# The tables an import writes, and the shares of a table's rows that, once written or
# rewritten, make the planner's statistics stale and leave it bloated (autovacuum's own
# default analyze and vacuum scale factors).
ANALYZED_TABLES = ("catalogue_category", "catalogue_product", "catalogue_sku",
                   "inventory_stocklevel")  # fmt: skip
ANALYZE_SCALE_FACTOR = 0.1
VACUUM_SCALE_FACTOR = 0.2


def statistics_refresh(*, rows_written: int, rows_rewritten: int = 0) -> dict[str, list[str]]:
    """PostgreSQL: what autovacuum would do after this import, done at once (autovacuum comes
    later, or never: it can be off). The tables it wrote more than a tenth of (or that were
    never analyzed) are analyzed: without statistics the planner turned a bulk delete of the
    imported products into a run of over five minutes, against 21 s with them. The tables it
    rewrote more than a fifth of are vacuumed too, when no transaction is open (VACUUM cannot
    run in one): the same delete took 15.4 s among the dead rows of a mixed import and 10.3 s
    after VACUUM. Returns {"analyzed": [...], "vacuumed": [...]}."""
    done: dict[str, list[str]] = {"analyzed": [], "vacuumed": []}
    if connection.vendor != "postgresql" or rows_written <= 0:
        return done
    believed = dict(
        _fetch(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [list(ANALYZED_TABLES)],
        )
    )
    for table in ANALYZED_TABLES:
        rows = believed.get(table, -1)
        if rows >= 0 and rows_rewritten > VACUUM_SCALE_FACTOR * rows:
            if not connection.in_atomic_block:
                done["vacuumed"].append(table)
                continue
        if rows < 0 or rows_written > ANALYZE_SCALE_FACTOR * rows:
            done["analyzed"].append(table)
    if done["vacuumed"]:
        _execute("VACUUM (ANALYZE) " + ", ".join(done["vacuumed"]))
    if done["analyzed"]:
        _execute("ANALYZE " + ", ".join(done["analyzed"]))
    return done


def invalid_rows_copy(*, import_id) -> None:
    """The rows refused while validating → the import's error list (value as written)."""
    sql = Sql(connection.vendor)
    value = (
        "CASE r.err_col "
        + " ".join(f"WHEN '{name}' THEN r.{name}" for name in STAGE_COLUMNS)
        + " ELSE '' END"
    )
    _execute(
        f"""INSERT INTO imports_importrowerror (import_run_id, row, "column", value, message)
        SELECT %s, r.row_no, coalesce(r.err_col, ''), coalesce({value}, ''), r.err_msg
        FROM imp_row r WHERE r.err_msg IS NOT NULL ORDER BY r.row_no""",  # noqa: S608
        [sql.uuid_param(import_id)],
    )


def rows_before_batch(batch_no: int) -> int:
    """Rows (with their superseded duplicates) of the batches before `batch_no`: what a
    resumed job has already processed besides the invalid rows."""
    return int(
        _fetch("SELECT coalesce(sum(dups + 1), 0) FROM imp_apply WHERE batch_no < %s", [batch_no])[
            0
        ][0]
    )


# --- 3. apply --------------------------------------------------------------------------------


def batch_apply(*, batch_no: int, import_id, actor_id) -> BatchCounts:
    """Applies one batch inside the caller's transaction. Locks the batch's stock levels in
    key order (the order every stock change locks in), then its SKUs (the upsert takes them
    in key order too)."""
    sql = Sql(connection.vendor)
    now = sql.time_param(timezone.now())
    imp = sql.uuid_param(import_id)
    b = [batch_no]
    counts = BatchCounts()
    _execute("DROP TABLE IF EXISTS imp_chg")
    _execute(f"CREATE TEMP TABLE imp_chg (id {_uuid_type(sql)}, kind text)")
    _execute("CREATE INDEX imp_chg_id ON imp_chg (id)")

    # Stock below what orders hold: refused under the lock, recorded with the batch.
    if sql.pg:
        # One pass: every level of the batch locked in key order (MATERIALIZED: all of them,
        # whatever the outer filter keeps), the refused rows read from what was locked.
        refused = _fetch(
            """WITH locked AS MATERIALIZED (
                SELECT l.sku_id, l.allocated FROM inventory_stocklevel l
                JOIN imp_apply a ON a.sku_id = l.sku_id
                WHERE a.batch_no = %s AND a.stock IS NOT NULL AND NOT a.is_new
                ORDER BY l.sku_id FOR UPDATE OF l)
            SELECT a.row_no, a.stock, k.allocated, a.dups FROM locked k
            JOIN imp_apply a ON a.sku_id = k.sku_id
            WHERE a.batch_no = %s AND a.stock < k.allocated""",
            [batch_no, batch_no],
        )
    else:
        refused = _fetch(
            """SELECT a.row_no, a.stock, l.allocated, a.dups FROM inventory_stocklevel l
            JOIN imp_apply a ON a.sku_id = l.sku_id
            WHERE a.batch_no = %s AND a.stock IS NOT NULL AND NOT a.is_new
              AND a.stock < l.allocated""",
            b,
        )
    if refused:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO imports_importrowerror "
                '(import_run_id, row, "column", value, message, batch_no) '
                "VALUES (%s, %s, 'stock', %s, %s, %s)",
                [(imp, row_no, str(stock),
                  f"Below what orders hold ({allocated} allocated).", batch_no)
                 for row_no, stock, allocated, _ in refused],
            )  # fmt: skip
            cursor.executemany(
                "DELETE FROM imp_apply WHERE row_no = %s", [(row[0],) for row in refused]
            )
        counts.invalid = len(refused)
        counts.processed += sum(dups + 1 for *_, dups in refused)

    # Products: the group's last row names it; fields not given keep their value.
    product_upsert = f"""
        INSERT INTO catalogue_product
            (id, name, description, category_id, attributes, active, version,
             created_at, updated_at, deleted_at)
        SELECT g.product_id,
               coalesce(l.name, p.name, l.code),
               coalesce(l.description, p.description, ''),
               coalesce(l.category_id, p.category_id),
               coalesce(p.attributes, {sql.json("'{}'")}),
               coalesce(p.active, TRUE), 1, %s, %s, NULL
        FROM imp_grp g
        JOIN imp_apply l ON l.row_no = g.last_row
        LEFT JOIN catalogue_product p ON p.id = g.product_id
        WHERE g.batch_no = %s
        ORDER BY g.product_id
        ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name, description = EXCLUDED.description,
            category_id = EXCLUDED.category_id, deleted_at = NULL,
            version = catalogue_product.version + 1, updated_at = EXCLUDED.updated_at
        WHERE {sql.differs("catalogue_product.name", "EXCLUDED.name")}
           OR {sql.differs("catalogue_product.description", "EXCLUDED.description")}
           OR {sql.differs("catalogue_product.category_id", "EXCLUDED.category_id")}
           OR catalogue_product.deleted_at IS NOT NULL
        RETURNING id"""  # noqa: S608
    _returning_into_chg(sql, product_upsert, [now, now, batch_no], kind="product")

    # SKUs: existing keep their product and code (any case matched); new ones join the group's.
    sku_upsert = f"""
        INSERT INTO catalogue_sku
            (id, product_id, code, attributes, price, currency, track_inventory,
             low_stock_threshold, active, version, created_at, updated_at, deleted_at)
        SELECT a.sku_id, coalesce(s.product_id, a.group_product_id), coalesce(s.code, a.code),
               coalesce(a.attributes, s.attributes, {sql.json("'{}'")}),
               coalesce(a.price, s.price, 0), coalesce(a.currency, s.currency, 'USD'),
               coalesce(s.track_inventory, TRUE), coalesce(s.low_stock_threshold, 0),
               coalesce(a.active_value, s.active, TRUE), 1, %s, %s, NULL
        FROM imp_apply a
        LEFT JOIN catalogue_sku s ON s.id = a.sku_id
        WHERE a.batch_no = %s
        ORDER BY a.sku_id
        ON CONFLICT (id) DO UPDATE SET
            attributes = EXCLUDED.attributes, price = EXCLUDED.price,
            currency = EXCLUDED.currency, active = EXCLUDED.active, deleted_at = NULL,
            version = catalogue_sku.version + 1, updated_at = EXCLUDED.updated_at
        WHERE {sql.differs(sql.json("catalogue_sku.attributes"), sql.json("EXCLUDED.attributes"))}
           OR {sql.differs("catalogue_sku.price", "EXCLUDED.price")}
           OR {sql.differs("catalogue_sku.currency", "EXCLUDED.currency")}
           OR {sql.differs("catalogue_sku.active", "EXCLUDED.active")}
           OR catalogue_sku.deleted_at IS NOT NULL
        RETURNING id"""  # noqa: S608
    _returning_into_chg(sql, sku_upsert, [now, now, batch_no], kind="sku")

    # Stock: every new SKU gets its level; given stock sets on hand through an IMPORTED
    # movement (levels always equal the sums of their movements).
    _execute(
        """INSERT INTO inventory_stocklevel (sku_id, on_hand, allocated, damaged, updated_at)
        SELECT a.sku_id, coalesce(a.stock, 0), 0, 0, %s FROM imp_apply a
        WHERE a.batch_no = %s AND a.is_new ORDER BY a.sku_id""",
        [now, batch_no],
    )
    movement = f"""
        INSERT INTO inventory_stockmovement
            (id, sku_id, reason, delta_on_hand, delta_allocated, delta_damaged, on_hand,
             allocated, damaged, import_id, note, actor_id, created_at)
        SELECT {sql.new_uuid()}, a.sku_id, '{MovementReason.IMPORTED}', {{delta}}, 0, 0,
               a.stock, l.allocated, l.damaged, %s, 'import', %s, %s
        FROM imp_apply a JOIN inventory_stocklevel l ON l.sku_id = a.sku_id
        WHERE a.batch_no = %s AND a.stock IS NOT NULL AND {{where}}"""  # noqa: S608
    _execute(
        movement.format(delta="a.stock", where="a.is_new AND a.stock > 0"),
        [imp, actor_id, now, batch_no],
    )
    changed_stock = """
        FROM imp_apply a JOIN inventory_stocklevel l ON l.sku_id = a.sku_id
        WHERE a.batch_no = %s AND a.stock IS NOT NULL AND NOT a.is_new
          AND l.on_hand <> a.stock"""
    if sql.pg:
        # One pass over the changed levels (all locked above): their movements, the change
        # list and the new on hand, from one snapshot of the levels as they were.
        _execute(
            f"""WITH chg AS MATERIALIZED (
                SELECT a.sku_id, a.stock, l.on_hand, l.allocated, l.damaged {changed_stock}),
            moved AS (
                INSERT INTO inventory_stockmovement
                    (id, sku_id, reason, delta_on_hand, delta_allocated, delta_damaged,
                     on_hand, allocated, damaged, import_id, note, actor_id, created_at)
                SELECT gen_random_uuid(), sku_id, '{MovementReason.IMPORTED}',
                       stock - on_hand, 0, 0, stock, allocated, damaged, %s, 'import', %s, %s
                FROM chg),
            levels AS (
                UPDATE inventory_stocklevel l SET on_hand = c.stock, updated_at = %s
                FROM chg c WHERE l.sku_id = c.sku_id)
            INSERT INTO imp_chg (id, kind) SELECT sku_id, 'stock' FROM chg""",  # noqa: S608
            [batch_no, imp, actor_id, now, now],
        )
    else:
        _execute(
            movement.format(
                delta="a.stock - l.on_hand", where="NOT a.is_new AND l.on_hand <> a.stock"
            ),
            [imp, actor_id, now, batch_no],
        )
        _execute(
            f"INSERT INTO imp_chg (id, kind) SELECT a.sku_id, 'stock' {changed_stock}",
            b,
        )
        _execute(
            """UPDATE inventory_stocklevel SET on_hand = a.stock, updated_at = %s
            FROM imp_apply a
            WHERE a.sku_id = inventory_stocklevel.sku_id AND a.batch_no = %s
              AND a.stock IS NOT NULL AND NOT a.is_new
              AND inventory_stocklevel.on_hand <> a.stock""",
            [now, batch_no],
        )

    created, touched, rows, valid = _fetch(
        """SELECT
            coalesce(sum(CASE WHEN a.is_new THEN 1 ELSE 0 END), 0),
            coalesce(sum(CASE WHEN NOT a.is_new AND (
                a.sku_id IN (SELECT c.id FROM imp_chg c WHERE c.kind <> 'product')
                OR a.group_product_id IN (SELECT c.id FROM imp_chg c WHERE c.kind = 'product'))
                THEN 1 ELSE 0 END), 0),
            coalesce(sum(a.dups + 1), 0),
            count(*)
        FROM imp_apply a WHERE a.batch_no = %s""",
        b,
    )[0]
    counts.created, counts.updated = int(created), int(touched)
    counts.unchanged = int(valid) - counts.created - counts.updated
    counts.processed += int(rows)
    return counts


def _returning_into_chg(sql: Sql, statement: str, params: list, *, kind: str) -> None:
    if sql.pg:
        _execute(
            f"WITH changed AS ({statement}) INSERT INTO imp_chg (id, kind) "  # noqa: S608
            f"SELECT id, '{kind}' FROM changed",
            params,
        )
    else:
        # SQLite: no data-modifying CTE; an INSERT … SELECT needs a WHERE before ON CONFLICT
        # (the parser's rule), which the statements have.
        ids = _fetch(statement, params)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO imp_chg (id, kind) VALUES (%s, %s)", [(i, kind) for (i,) in ids]
            )


class Throttle:
    """True at most once per `seconds` (progress writes)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.last = seconds, 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            return True
        return False
