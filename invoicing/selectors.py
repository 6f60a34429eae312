from django.core.exceptions import ValidationError as DjangoValidationError

from articurated.errors import NotFound
from invoicing.models import Invoice
from orders.models import Order


def order_invoice_get(*, order_id) -> tuple[Order, Invoice | None]:
    """The order and its invoice (None while it has none). NotFound for an unknown order."""
    try:
        order = Order.objects.select_related("invoice").get(pk=order_id)
    except (Order.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Order {order_id} does not exist.") from None
    return order, getattr(order, "invoice", None)
