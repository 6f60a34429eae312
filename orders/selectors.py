import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from articurated.errors import NotFound
from orders.models import LineItem, Order


def _items() -> Prefetch:
    return Prefetch("items", queryset=LineItem.objects.order_by("position"))


def order_one_to_one_relations() -> list[str]:
    """Reverse one-to-one relations the order body shows that apps above `orders` add
    (`invoice`), read with a join."""
    related = {f.name for f in Order._meta.related_objects}
    return [name for name in ("invoice",) if name in related]


def order_list() -> QuerySet[Order]:
    """Orders with everything the order body shows, in a constant number of queries.
    Relations that apps above `orders` add (returns, invoice) are included when installed."""
    queryset = Order.objects.prefetch_related(_items())
    related = {f.name for f in Order._meta.related_objects}
    if "returns" in related:
        queryset = queryset.prefetch_related("returns")
    return queryset.select_related(*order_one_to_one_relations())


def order_body_complete(order: Order) -> Order:
    """Reads what the order body shows besides the row itself (lines, returns, invoice) for an
    order already in hand, such as the row a state change locked and saved, instead of reading
    the order again. Relations already loaded are not read twice."""
    related = {f.name: f for f in Order._meta.related_objects}
    lookups: list = [_items()]
    if "returns" in related:
        lookups.append("returns")
    lookups += [name for name in order_one_to_one_relations() if not related[name].is_cached(order)]
    prefetch_related_objects([order], *lookups)
    return order


def order_new_body_complete(order: Order, *, items: list[LineItem]) -> Order:
    """The body relations of an order created in this transaction, from what the creation
    holds: its lines, no returns, no invoice. No query."""
    related = {f.name: f for f in Order._meta.related_objects}
    known = {"items": list(items), "returns": []}
    cache = {}
    for name, rows in known.items():
        if name in related or name == "items":
            rows_queryset = getattr(order, name).all()  # builds a queryset; runs no query
            rows_queryset._result_cache, rows_queryset._prefetch_done = rows, True
            cache[name] = rows_queryset
    order._prefetched_objects_cache = cache
    for name in order_one_to_one_relations():
        related[name].set_cached_value(order, None)
    return order


def order_exists_or_404(*, order_id) -> None:
    """One indexed probe: whether the order exists (for bodies that show only its rows)."""
    try:
        exists = Order.objects.filter(pk=order_id).exists()
    except (DjangoValidationError, ValueError):
        exists = False
    if not exists:
        raise NotFound(f"Order {order_id} does not exist.")


def order_get(*, order_id) -> Order:
    try:
        return order_list().get(pk=order_id)
    except (Order.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Order {order_id} does not exist.") from None


def order_number_q(term: str, *, field: str = "number") -> Q | None:
    """Matches an order number typed in full (any case) or in part: `000012`, `12` and
    `2026-000012` all find ORD-2026-000012. None when the term cannot be a number."""
    term = term.strip().upper()
    if re.fullmatch(r"ORD-\d{4}-\d+", term):
        return Q(**{f"{field}__iexact": term})
    if re.fullmatch(r"\d{4}-\d+", term):
        return Q(**{f"{field}__endswith": term})
    if re.fullmatch(r"\d{1,9}", term):
        return Q(**{f"{field}__endswith": f"-{term.zfill(6)}"})
    return None
