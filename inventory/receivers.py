"""Inventory's side of catalogue changes, run inside the catalogue's transaction."""

from inventory.models import MovementReason, StockLevel, StockMovement


def stock_levels_create_for_new_skus(sender, *, skus, actor, **kwargs) -> None:
    """Every SKU gets its stock row when it is created, with an ADJUSTED movement for its
    opening stock, so levels always equal the sums of their movements."""
    user = actor if actor is not None and actor.is_authenticated else None
    StockLevel.objects.bulk_create(
        [StockLevel(sku=sku, on_hand=on_hand or 0) for sku, on_hand in skus]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                sku=sku,
                reason=MovementReason.ADJUSTED,
                delta_on_hand=on_hand,
                on_hand=on_hand,
                allocated=0,
                note="opening stock",
                actor=user,
            )
            for sku, on_hand in skus
            if on_hand
        ]
    )
