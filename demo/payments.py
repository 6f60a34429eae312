"""The demo pays its orders through the payment service, like a storefront would: one
CreatePayment per order (over gRPC when PAYMENT_SERVICE_URL is set), whose id becomes the
order's payment reference — so PAYMENTS_VERIFY passes and refunds have a payment to refund."""

from orders.models import Order
from payment_service.client import minor_units, payment_client_get


def demo_order_pay(order: Order) -> str:
    """Takes the order's total through the payment service and returns the payment id. The
    idempotency key is the order number, so running the demo again takes no second payment."""
    payment = payment_client_get().payment_create(
        idempotency_key=f"demo-pay-{order.number}",
        amount_minor=minor_units(order.total_amount),
        currency=order.currency,
        reference=order.number,
        description=f"Demo payment for order {order.number}",
    )
    return payment["id"]
