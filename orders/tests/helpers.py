"""Assertions shared by the order API tests: the one error body of API.md, and a snapshot of
everything a request could write, to prove that a refused request wrote nothing."""

from articurated.tests.assertions import assert_error  # noqa: F401 - re-exported
from audit.models import AuditRecord
from orders.models import LineItem, Order

ORDER_STATES = [
    "PENDING_PAYMENT",
    "PAID",
    "PROCESSING_IN_WAREHOUSE",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
]

# What PRODUCT.md allows next from each state, in lifecycle order (the `allowed_transitions`
# field and the details of a 409).
NEXT_STATES = {
    "PENDING_PAYMENT": ["PAID", "CANCELLED"],
    "PAID": ["PROCESSING_IN_WAREHOUSE", "CANCELLED"],
    "PROCESSING_IN_WAREHOUSE": ["SHIPPED"],
    "SHIPPED": ["DELIVERED"],
    "DELIVERED": [],
    "CANCELLED": [],
}

# Everything each target state needs (API.md "State change"); PENDING_PAYMENT needs nothing
# because no transition reaches it.
STATE_INPUTS = {
    "PENDING_PAYMENT": {},
    "PAID": {"payment_reference": "pay_8XK2", "payment_method": "card"},
    "PROCESSING_IN_WAREHOUSE": {},
    "SHIPPED": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "DELIVERED": {},
    "CANCELLED": {"reason": "customer asked"},
}


def state_path(order_id, *, slash: bool = False) -> str:
    return f"/api/v1/orders/{order_id}/state" + ("/" if slash else "")


def db_snapshot() -> dict:
    """Counts and per-order status/update times: equal before and after a refused request."""
    return {
        "orders": Order.objects.count(),
        "line_items": LineItem.objects.count(),
        "audit_records": AuditRecord.objects.count(),
        "order_history": Order.history.count(),
        "order_rows": sorted(Order.objects.values_list("id", "status", "updated_at")),
    }
