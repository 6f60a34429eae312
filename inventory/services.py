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

from collections import defaultdict
from collections.abc import Iterable, Sequence
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
        threshold = level.sku.low_stock_threshold
        if level.sku.track_inventory and before[sku_id] > threshold >= level.available:
            stock_low.send(
                sender=StockLevel,
                sku=level.sku,
                on_hand=level.on_hand,
                allocated=level.allocated,
                available=level.available,
                threshold=threshold,
            )
    return movements


def stock_allocate_rollback_unsafe(
    *, lines: Sequence[StockLine], codes: dict, order_id, actor
) -> None:
    """Holds stock for every line of a new order, or for none: if any SKU is short, raises
    InsufficientStock listing every line whose SKU cannot cover the order's total for it.
    `codes` maps sku_id to the code shown in the error. Called by order_create."""
    if not lines:
        return
    wanted: dict = defaultdict(int)
    for line in lines:
        wanted[line.sku_id] += line.quantity
    levels = stock_levels_lock_rollback_unsafe(wanted)
    short = [
        {
            "index": line.index,
            "sku": codes[line.sku_id],
            "requested": line.quantity,
            "available": max(levels[line.sku_id].available, 0),
        }
        for line in lines
        if wanted[line.sku_id] > levels[line.sku_id].available
    ]
    if short:
        raise InsufficientStock(short)
    _apply_rollback_unsafe(
        levels,
        [(line.sku_id, 0, line.quantity, 0) for line in lines],
        reason=R.ALLOCATED,
        actor=actor,
        order_id=order_id,
    )


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
