"""PAYMENTS_VERIFY=true: `pay` checks the reference with the payment service (API.md
PAYMENT_MISMATCH), in-process and over gRPC."""

import pytest

from orders.models import Order
from orders.tests.helpers import assert_error, db_snapshot, state_path
from payment_service.client import InProcessClient, minor_units


@pytest.fixture(autouse=True)
def _verification_on(settings):
    settings.PAYMENTS_VERIFY = True
    settings.PAYMENT_SERVICE_URL = ""
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 0
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False


def payment_take(key: str, *, amount_minor: int, currency: str = "USD") -> str:
    return InProcessClient().payment_create(
        idempotency_key=key, amount_minor=amount_minor, currency=currency
    )["id"]


def pay(api, order, reference):
    return api["Integrator"].patch(
        state_path(order.pk),
        {"new_state": "PAID", "payment_reference": reference, "payment_method": "card"},
        format="json",
    )


@pytest.mark.django_db
def test_a_payment_of_the_orders_total_pays_it(api, make_order):
    order = make_order()
    reference = payment_take("k1", amount_minor=minor_units(order.total_amount))
    response = pay(api, order, reference)
    assert response.status_code == 200, response.content
    assert response.json()["payment_reference"] == reference


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payment", "reason"),
    [
        (None, "PAYMENT_NOT_FOUND"),
        ({"amount_minor": 10399}, "AMOUNT_MISMATCH"),
        ({"amount_minor": 10400, "currency": "EUR"}, "CURRENCY_MISMATCH"),
    ],
)
def test_a_reference_that_did_not_pay_the_total_is_refused(api, make_order, payment, reason):
    # given an order of USD 104.00 and a payment that is not it
    order = make_order()
    reference = payment_take("k1", **payment) if payment else "pay_made_up"
    before = db_snapshot()

    # when it is paid with that reference
    error = assert_error(pay(api, order, reference), 409, "PAYMENT_MISMATCH")

    # then 409 with the reason, and nothing changed
    assert error["details"]["reason"] == reason
    assert db_snapshot() == before
    assert Order.objects.get(pk=order.pk).status == "PENDING_PAYMENT"


@pytest.mark.django_db
def test_one_payment_pays_one_order(api, make_order):
    first, second = make_order(), make_order()
    reference = payment_take("k1", amount_minor=10400)
    assert pay(api, first, reference).status_code == 200
    error = assert_error(pay(api, second, reference), 409, "PAYMENT_MISMATCH")
    assert error["details"]["reason"] == "PAYMENT_ALREADY_USED"


@pytest.mark.django_db(transaction=True)
def test_over_grpc_the_reference_is_checked_and_an_unreachable_service_refuses(
    api, make_order, settings, grpc_server
):
    # given the OMS pointed at the payment service's gRPC server
    settings.PAYMENT_SERVICE_URL = f"127.0.0.1:{grpc_server.port}"
    order, other = make_order(), make_order()
    reference = payment_take("k1", amount_minor=10400)

    # then a right reference pays, a wrong one is refused
    assert pay(api, order, reference).status_code == 200
    wrong = payment_take("k2", amount_minor=1)
    error = assert_error(pay(api, other, wrong), 409, "PAYMENT_MISMATCH")
    assert error["details"]["reason"] == "AMOUNT_MISMATCH"

    # and with the service unreachable, nothing is paid unverified
    settings.PAYMENT_SERVICE_URL = "127.0.0.1:9"
    error = assert_error(pay(api, other, reference), 409, "PAYMENT_MISMATCH")
    assert error["details"]["reason"] == "PAYMENT_SERVICE_UNAVAILABLE"
    assert Order.objects.get(pk=other.pk).status == "PENDING_PAYMENT"
