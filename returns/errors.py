"""Refusals specific to returns; the API exception handler maps them by their code."""

from articurated.errors import Conflict


class OrderNotReturnable(Conflict):
    """The order is not DELIVERED. details: order_status."""

    code = "ORDER_NOT_RETURNABLE"


class ReturnWindowExpired(Conflict):
    """More than RETURN_WINDOW_DAYS have passed since delivery. details: delivered_at,
    window_days."""

    code = "RETURN_WINDOW_EXPIRED"
