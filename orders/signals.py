"""Signals sent inside the transaction of an order's state change, for apps above `orders`
(invoicing, payments) to write their own rows. Receivers must not do I/O: they queue work with
transaction.on_commit."""

from django.dispatch import Signal

# kwargs: order, actor, context
order_shipped = Signal()
# kwargs: order, previous_state, actor, context
order_cancelled = Signal()
