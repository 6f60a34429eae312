"""Every change of stock goes through these functions (PRODUCT.md "Catalogue and stock").

Each one locks the stock rows of the SKUs it touches in one fixed order (primary key, the
SKU's id), so two transactions over the same SKUs queue instead of deadlocking; changes the
levels; and writes one append-only movement per change in the same transaction. The CHECK
constraints of `StockLevel` are the last guard: even a bug here cannot make available or
allocated negative. `stock_low` is sent inside the transaction when a SKU crosses its
threshold.

The `*_rollback_unsafe` functions run inside the caller's transaction (order create, cancel,
ship; return receive): their changes commit or vanish with the order's.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from articurated.context import ActionContext
from articurated.errors import NotFound, PermissionDenied, ValidationFailed
from inventory.errors import InsufficientStock, StockBelowAllocated
from inventory.models import MovementReason, StockLevel, StockMovement
from inventory.signals import stock_low

R = MovementReason


@dataclass(frozen=True)
class StockLine:
    """One order line's claim on a SKU: `index` is its position in the order body."""

    index: int
    sku_id: object
    quantity: int


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def stock_levels_lock_rollback_unsafe(sku_ids: Iterable) -> dict:
    """SELECT … FOR UPDATE of the SKUs' stock rows in primary-key order (the one fixed order
    every stock change uses). Returns {sku_id: StockLevel} with the SKU read alongside."""
    assert transaction.get_connection().in_atomic_block, "lock stock inside atomic()"
    rows = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("sku")
        .filter(sku_id__in=set(sku_ids))
        .order_by("sku_id")
    )
    return {level.sku_id: level for level in rows}


def _apply_rollback_unsafe(
    levels: dict,
    changes: Sequence[tuple],
    *,
    reason: str,
    actor,
    order_id=None,
    return_id=None,
    import_id=None,
    note: str = "",
) -> list[StockMovement]:
    """changes: (sku_id, delta_on_hand, delta_allocated, delta_damaged) in the caller's order.
    Saves the levels (one UPDATE per SKU), the movements (one INSERT) and sends stock_low."""
    before = {sku_id: level.available for sku_id, level in levels.items()}
    movements = []
    now = timezone.now()
    for sku_id, d_on_hand, d_allocated, d_damaged in changes:
        level = levels[sku_id]
        level.on_hand += d_on_hand
        level.allocated += d_allocated
        level.damaged += d_damaged
        movements.append(
            StockMovement(
                sku_id=sku_id,
                reason=reason,
                delta_on_hand=d_on_hand,
                delta_allocated=d_allocated,
                delta_damaged=d_damaged,
                on_hand=level.on_hand,
                allocated=level.allocated,
                damaged=level.damaged,
                order_id=order_id,
                return_id=return_id,
                import_id=import_id,
                note=note or "",
                actor=_user(actor),
            )
        )
    touched = {change[0] for change in changes}
    for sku_id in sorted(touched):
        level = levels[sku_id]
        level.updated_at = now
    StockLevel.objects.bulk_update(
        [levels[sku_id] for sku_id in sorted(touched)],
        ["on_hand", "allocated", "damaged", "updated_at"],
    )
    StockMovement.objects.bulk_create(movements)
    for sku_id in sorted(touched):
        level = levels[sku_id]
        _stock_low_if_crossed(
            level.sku, before=before[sku_id], on_hand=level.on_hand, allocated=level.allocated
        )
    return movements


def _stock_low_if_crossed(sku, *, before: int, on_hand: int, allocated: int) -> None:
    """Sends `stock_low` (inside the transaction) when a tracked SKU's available stock went from
    above its threshold to at or below it: once per crossing."""
    threshold, available = sku.low_stock_threshold, on_hand - allocated
    if sku.track_inventory and before > threshold >= available:
        stock_low.send(
            sender=StockLevel,
            sku=sku,
            on_hand=on_hand,
            allocated=allocated,
            available=available,
            threshold=threshold,
        )


def _allocate_postgresql_sql(*, levels: str, movements: str, skus: int, lines: int, actor: str):
    # The rows are locked first, in primary-key order (ORDER BY … FOR UPDATE in a materialized
    # CTE, which the UPDATE joins: it changes only rows the CTE has locked), so two orders over
    # the same SKUs queue instead of deadlocking. A row another transaction changed meanwhile
    # is re-read and re-checked by the UPDATE (READ COMMITTED), so the condition always sees
    # the committed levels. The movements are written by the same statement, and only when
    # every SKU was covered: one round trip while the rows are locked.
    wanted = ", ".join(["(%s::uuid, %s::integer)"] * skus)
    rows = ", ".join(["(%s::uuid, %s::integer, %s::uuid, %s::integer)"] * lines)
    return (
        f"WITH wanted (sku_id, quantity) AS (VALUES {wanted}), "  # noqa: S608 - models' tables
        f"locked AS MATERIALIZED (SELECT sku_id FROM {levels} "
        "WHERE sku_id IN (SELECT sku_id FROM wanted) ORDER BY sku_id FOR UPDATE), "
        f"changed AS (UPDATE {levels} AS s SET allocated = s.allocated + w.quantity, "
        "updated_at = %s FROM wanted AS w JOIN locked AS l ON l.sku_id = w.sku_id "
        "WHERE s.sku_id = w.sku_id AND s.on_hand - s.allocated >= w.quantity "
        "RETURNING s.sku_id, s.on_hand, s.allocated, s.damaged, w.quantity), "
        f"lines (id, position, sku_id, quantity) AS (VALUES {rows}), "
        f"moved AS (INSERT INTO {movements} (id, sku_id, reason, delta_on_hand, "
        "delta_allocated, delta_damaged, on_hand, allocated, damaged, order_id, note, actor_id, "
        "created_at) SELECT l.id, l.sku_id, %s, 0, l.quantity, 0, c.on_hand, c.allocated - "
        "c.quantity + sum(l.quantity) OVER (PARTITION BY l.sku_id ORDER BY l.position), "
        f"c.damaged, %s::uuid, '', CAST(%s AS {actor}), %s "
        "FROM lines AS l JOIN changed AS c ON c.sku_id = l.sku_id "
        "WHERE (SELECT count(*) FROM changed) = %s) "
        "SELECT sku_id, on_hand, allocated, damaged FROM changed"
    )


def _allocate_sqlite_sql(*, levels: str, skus: int) -> str:
    # The IMMEDIATE transaction already holds the database's write lock.
    wanted = ", ".join(["(%s, %s)"] * skus)
    return (
        f"WITH wanted (sku_id, quantity) AS (VALUES {wanted}) "  # noqa: S608 - a model's table
        f"UPDATE {levels} AS s SET allocated = s.allocated + w.quantity, updated_at = %s "
        "FROM wanted AS w WHERE s.sku_id = w.sku_id AND s.on_hand - s.allocated >= w.quantity "
        "RETURNING sku_id, on_hand, allocated, damaged"
    )


def _movements_allocated(lines, after: Mapping, wanted: Mapping, *, order_id, user) -> list:
    """One movement per line, carrying the levels after it (lines of one SKU add up in turn)."""
    running = {
        sku_id: [on_hand, allocated - wanted[sku_id], damaged]
        for sku_id, (on_hand, allocated, damaged) in after.items()
    }
    movements = []
    for line in lines:
        levels = running[line.sku_id]
        levels[1] += line.quantity
        movements.append(
            StockMovement(
                sku_id=line.sku_id,
                reason=R.ALLOCATED,
                delta_allocated=line.quantity,
                on_hand=levels[0],
                allocated=levels[1],
                damaged=levels[2],
                order_id=order_id,
                actor=user,
            )
        )
    return movements


def _allocate_where_covered_rollback_unsafe(
    lines: Sequence[StockLine], wanted: Mapping, *, order_id, user
) -> dict:
    """One statement: adds each SKU's wanted quantity to its allocated where available stock
    covers it, and leaves the other rows as they are; when it covered every SKU, the lines'
    ALLOCATED movements are written too. Returns {sku_id: (on_hand, allocated, damaged)}
    after the change, for the rows it changed."""
    connection = transaction.get_connection()
    assert connection.in_atomic_block, "lock stock inside atomic()"
    key = StockLevel._meta.pk
    quote = connection.ops.quote_name
    now = timezone.now()
    params, by_value = [], {}
    for sku_id in sorted(wanted):
        value = key.get_db_prep_value(sku_id, connection)
        by_value[str(value)] = sku_id
        params += [value, wanted[sku_id]]
    params.append(connection.ops.adapt_datetimefield_value(now))
    levels = quote(StockLevel._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        for line in lines:
            params += [uuid.uuid4(), line.index, line.sku_id, line.quantity]
        actor = StockMovement._meta.get_field("actor")
        params += [R.ALLOCATED, order_id, user.pk if user else None, now, len(wanted)]
        sql = _allocate_postgresql_sql(
            levels=levels,
            movements=quote(StockMovement._meta.db_table),
            skus=len(wanted),
            lines=len(lines),
            actor=actor.target_field.rel_db_type(connection),
        )
    else:
        sql = _allocate_sqlite_sql(levels=levels, skus=len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        after = {by_value[str(sku_id)]: tuple(levels) for sku_id, *levels in cursor.fetchall()}
    if not postgresql and len(after) == len(wanted):
        StockMovement.objects.bulk_create(
            _movements_allocated(lines, after, wanted, order_id=order_id, user=user)
        )
    return after


def stock_wanted(lines: Iterable[StockLine]) -> dict:
    """{sku_id: units} that `lines` take together (one SKU may be on several lines)."""
    wanted: dict = defaultdict(int)
    for line in lines:
        wanted[line.sku_id] += line.quantity
    return dict(wanted)


def stock_allocate_rollback_unsafe(
    *, lines: Sequence[StockLine], skus: Mapping, order_id, actor
) -> None:
    """Holds stock for every line of a new order, or for none: if any SKU is short, raises
    InsufficientStock listing every line whose SKU cannot cover the order's total for it (the
    caller's transaction then rolls back what was allocated). `skus` maps sku_id to the
    catalogue SKU (its code for the error, its threshold for `stock_low`). Called by
    order_create, last before the order number: one statement locks and changes the stock
    rows (they stay locked until commit) and writes the movements (SQLite: a second one)."""
    if not lines:
        return
    wanted = stock_wanted(lines)
    after = _allocate_where_covered_rollback_unsafe(
        lines, wanted, order_id=order_id, user=_user(actor)
    )
    if len(after) < len(wanted):
        short = [sku_id for sku_id in wanted if sku_id not in after]
        available = {
            sku_id: on_hand - allocated
            for sku_id, on_hand, allocated in StockLevel.objects.filter(
                sku_id__in=short
            ).values_list("sku_id", "on_hand", "allocated")
        }
        raise InsufficientStock(
            [
                {
                    "index": line.index,
                    "sku": skus[line.sku_id].code,
                    "requested": line.quantity,
                    "available": max(available.get(line.sku_id, 0), 0),
                }
                for line in lines
                if line.sku_id not in after
            ]
        )
    for sku_id in sorted(wanted):
        on_hand, allocated, _ = after[sku_id]
        before = on_hand - allocated + wanted[sku_id]
        _stock_low_if_crossed(skus[sku_id], before=before, on_hand=on_hand, allocated=allocated)


def stock_deallocate_rollback_unsafe(*, lines: Sequence[StockLine], order_id, actor) -> None:
    """Releases what a cancelled order held. Called by order_cancel."""
    if lines:
        levels = stock_levels_lock_rollback_unsafe(line.sku_id for line in lines)
        _apply_rollback_unsafe(
            levels,
            [(line.sku_id, 0, -line.quantity, 0) for line in lines],
            reason=R.DEALLOCATED,
            actor=actor,
            order_id=order_id,
        )


def stock_ship_rollback_unsafe(*, lines: Sequence[StockLine], order_id, actor) -> None:
    """Takes a shipped order's units off on hand and allocated. Called by order_ship."""
    if lines:
        levels = stock_levels_lock_rollback_unsafe(line.sku_id for line in lines)
        _apply_rollback_unsafe(
            levels,
            [(line.sku_id, -line.quantity, -line.quantity, 0) for line in lines],
            reason=R.SHIPPED,
            actor=actor,
            order_id=order_id,
        )


def stock_return_rollback_unsafe(
    *, lines: Sequence[StockLine], return_id, order_id, restock: bool, actor, note: str = ""
) -> None:
    """A received return's units go back on hand (`restock`), or are counted as damaged.
    Called by return_receive."""
    if lines:
        levels = stock_levels_lock_rollback_unsafe(line.sku_id for line in lines)
        _apply_rollback_unsafe(
            levels,
            [
                (line.sku_id, line.quantity, 0, 0)
                if restock
                else (line.sku_id, 0, 0, line.quantity)
                for line in lines
            ],
            reason=R.RETURNED if restock else R.DAMAGED,
            actor=actor,
            order_id=order_id,
            return_id=return_id,
            note=note,
        )


def _returned(quantity: int, restock: bool) -> tuple[int, int, int]:
    # (on hand, allocated, damaged): back on the shelf, or into the damaged count.
    return (quantity, 0, 0) if restock else (0, 0, quantity)


def _stock_change(*, sku_id, actor, reason: str, on_hand=None, delta=None) -> StockLevel:
    if actor is not None and not actor.has_perm("inventory.adjust_stock"):
        raise PermissionDenied("Your role may not change stock.")
    if not (reason or "").strip():
        raise ValidationFailed("A reason is required.", details={"reason": ["Required."]})
    levels = stock_levels_lock_rollback_unsafe([sku_id])
    level = levels.get(sku_id)
    if level is None or level.sku.deleted_at is not None:
        raise NotFound(f"SKU {sku_id} does not exist.")
    target = on_hand if on_hand is not None else level.on_hand + delta
    if target < level.allocated:
        raise StockBelowAllocated(sku=level.sku.code, on_hand=target, allocated=level.allocated)
    if target != level.on_hand:
        _apply_rollback_unsafe(
            levels,
            [(sku_id, target - level.on_hand, 0, 0)],
            reason=R.ADJUSTED,
            actor=actor,
            note=reason.strip(),
        )
    return level


@transaction.atomic
def stock_set(*, sku_id, on_hand: int, reason: str, actor, context: ActionContext) -> StockLevel:
    """Sets a SKU's on hand (a stock take). Warehouse, managers. Locks the SKU's stock row;
    STOCK_BELOW_ALLOCATED when orders hold more than `on_hand`. Writes an ADJUSTED movement
    carrying the reason (none when nothing changes)."""
    return _stock_change(sku_id=sku_id, actor=actor, reason=reason, on_hand=on_hand)


@transaction.atomic
def stock_adjust(*, sku_id, delta: int, reason: str, actor, context: ActionContext) -> StockLevel:
    """Adds `delta` (may be negative) to a SKU's on hand (goods received, breakage).
    Warehouse, managers. As stock_set."""
    return _stock_change(sku_id=sku_id, actor=actor, reason=reason, delta=delta)
