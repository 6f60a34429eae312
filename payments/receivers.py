"""Receivers of `orders` and `returns` signals. They run inside the state change's transaction
and only write rows; messages go out on commit."""

from orders.models import OrderStatus
from payments.services import (
    refund_request_for_cancellation_rollback_unsafe,
    refund_request_for_return_rollback_unsafe,
)


def on_order_cancelled(sender, *, order, previous_state, actor, context, **kwargs) -> None:
    # Only a PAID order had money taken; cancelling an unpaid one refunds nothing.
    if previous_state == OrderStatus.PAID:
        refund_request_for_cancellation_rollback_unsafe(order=order)


def on_return_completed(sender, *, return_request, actor, context, **kwargs) -> None:
    refund_request_for_return_rollback_unsafe(return_request=return_request)
