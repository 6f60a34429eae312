"""Receivers of `orders` signals. They run inside the order's transaction and only write rows;
messages go out on commit."""

from invoicing.services import invoice_request_rollback_unsafe


def on_order_shipped(sender, *, order, actor, context, **kwargs) -> None:
    invoice_request_rollback_unsafe(order=order)
