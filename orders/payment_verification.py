"""PAYMENTS_VERIFY=true: the `pay` transition checks its payment reference with the payment
service (PRODUCT.md "Payment service"). The service sits below orders and knows nothing of
them; orders reach it only through its client (payment_service.client), over gRPC when
PAYMENT_SERVICE_URL is set, in-process otherwise."""

from articurated.errors import Conflict
from orders.models import Order
from payment_service.client import RETRYABLE, minor_units, payment_client_get
from payment_service.errors import InvalidRequest, NotFound, PaymentServiceError


class PaymentMismatch(Conflict):
    code = "PAYMENT_MISMATCH"


def _refuse(reason: str, message: str, **details) -> None:
    raise PaymentMismatch(message, details={"reason": reason, **details})


def order_payment_verify_rollback_unsafe(order: Order, payment_reference: str) -> None:
    """Raises PaymentMismatch (409) unless `payment_reference` names a succeeded payment of
    the order's exact total and currency that no other order was paid with. Called by
    order_pay inside its transaction, the order locked; one GetPayment with a deadline."""
    try:
        payment = payment_client_get().payment_get(payment_id=payment_reference)
    except (NotFound, InvalidRequest):
        _refuse("PAYMENT_NOT_FOUND", f"No payment {payment_reference!r} at the payment service.")
    except RETRYABLE as error:
        _refuse(
            "PAYMENT_SERVICE_UNAVAILABLE",
            f"The payment could not be verified now ({error.reason}); try again.",
        )
    except PaymentServiceError as error:
        _refuse("PAYMENT_NOT_VERIFIED", f"The payment could not be verified: {error.message}")
    expected = {"expected_amount_minor": minor_units(order.total_amount)}
    if payment["status"] != "SUCCEEDED":
        _refuse("PAYMENT_NOT_SUCCEEDED", f"Payment {payment_reference} did not succeed.")
    if payment["currency"] != order.currency:
        _refuse(
            "CURRENCY_MISMATCH",
            f"Payment {payment_reference} is in {payment['currency']}, the order in "
            f"{order.currency}.",
            expected_currency=order.currency,
            payment_currency=payment["currency"],
        )
    if payment["amount_minor"] != expected["expected_amount_minor"]:
        _refuse(
            "AMOUNT_MISMATCH",
            f"Payment {payment_reference} is {payment['amount_minor']} minor units; the order's "
            f"total is {expected['expected_amount_minor']}.",
            payment_amount_minor=payment["amount_minor"],
            **expected,
        )
    if Order.objects.filter(payment_reference=payment_reference).exclude(pk=order.pk).exists():
        _refuse("PAYMENT_ALREADY_USED", f"Payment {payment_reference} paid another order.")
