"""Signals sent inside the transaction of a return's state change, for apps above `returns`
(payments) to write their own rows. Receivers must not do I/O: they queue work on commit."""

from django.dispatch import Signal

# kwargs: return_request (returns.models.Return), actor, context
return_completed = Signal()
