"""Signals sent inside the transaction of a catalogue change, for apps above `catalogue`
(inventory) to write their own rows. Receivers must not do I/O."""

from django.dispatch import Signal

# kwargs: skus (list of (Sku, on_hand)), actor, context. Inventory creates the stock levels.
skus_created = Signal()
