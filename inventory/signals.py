"""Signals inventory sends inside the transaction of a stock change, for apps above it
(webhooks: `stock.low`). Receivers must not do I/O: they write their own rows and queue work
with transaction.on_commit."""

from django.dispatch import Signal

# Sent when a tracked SKU's available stock falls to or below its low-stock threshold (it was
# above before this change). kwargs: sku (the Sku), on_hand, allocated, available, threshold.
stock_low = Signal()
