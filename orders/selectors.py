from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet

from articurated.errors import NotFound
from orders.models import LineItem, Order


def order_list() -> QuerySet[Order]:
    """Orders with everything the order body shows, in a constant number of queries.
    Relations that apps above `orders` add (returns, invoice) are included when installed."""
    queryset = Order.objects.prefetch_related(
        Prefetch("items", queryset=LineItem.objects.order_by("position"))
    )
    related = {f.name for f in Order._meta.related_objects}
    if "returns" in related:
        queryset = queryset.prefetch_related("returns")
    if "invoice" in related:
        queryset = queryset.select_related("invoice")
    return queryset


def order_get(*, order_id) -> Order:
    try:
        return order_list().get(pk=order_id)
    except (Order.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Order {order_id} does not exist.") from None
