"""Order numbers: unique and increasing, taken without a lock held to commit
(articurated.sequences.sequence_next_number_unlocked_rollback_unsafe), and not spent on an
order refused for stock."""

import pytest
from django.db import transaction
from django.utils import timezone

from articurated.models import NumberSequence
from articurated.sequences import sequence_next_number_unlocked_rollback_unsafe
from audit.models import AuditRecord
from catalogue.tests.conftest import category_make, product_make
from conftest import ORDER_PAYLOAD, requires_postgres
from orders.models import Order

pytestmark = pytest.mark.empty_catalogue


def _count(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_an_order_refused_for_stock_uses_no_number(api):
    # given a jar with two units
    product_make("Moon jar", category_make("Ceramics"), {"sku": "JAR", "on_hand": 2})

    def order(quantity):
        body = {**ORDER_PAYLOAD, "items": [{"sku": "JAR", "quantity": quantity}]}
        return api["Integrator"].post("/api/v1/orders", body, format="json")

    # when one order is placed, one asks for more than is left, and one more is placed
    first, refused, second = order(1), order(5), order(1)

    # then the refused order was told why, and the two orders have consecutive numbers
    assert (first.status_code, refused.status_code, second.status_code) == (201, 409, 201)
    assert refused.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert _count(second.json()["number"]) == _count(first.json()["number"]) + 1


def _two_numbers_after(prefix: str, counted: int) -> list[str]:
    # A year whose counter row already counted `counted` (numbers written before the sequence).
    NumberSequence.objects.create(prefix=prefix, year=timezone.now().year, last_value=counted)
    with transaction.atomic():
        return [sequence_next_number_unlocked_rollback_unsafe(prefix=prefix) for _ in range(2)]


@requires_postgres()
def test_the_first_number_of_a_year_continues_its_counter_row(db):
    year = timezone.now().year
    assert _two_numbers_after("TST", 41) == [f"TST-{year}-000042", f"TST-{year}-000043"]


@requires_postgres()
def test_a_number_past_six_digits_keeps_every_digit(db):
    # the millionth has seven digits, not six cut ones
    year = timezone.now().year
    assert _two_numbers_after("BIG", 999_998) == [f"BIG-{year}-999999", f"BIG-{year}-1000000"]


def test_an_order_holds_its_number_as_stored(api):
    # given
    product_make("Moon jar", category_make("Ceramics"), {"sku": "JAR", "on_hand": 2})
    body = {**ORDER_PAYLOAD, "items": [{"sku": "JAR", "quantity": 1}]}

    # when
    created = api["Integrator"].post("/api/v1/orders", body, format="json").json()

    # then the answer, the stored row, its history row and its audit record agree
    order = Order.objects.get(pk=created["id"])
    assert created["number"] == order.number == order.history.get().number
    assert created["number"].startswith(f"ORD-{timezone.now().year}-")
    assert AuditRecord.objects.get(entity_id=order.pk).entity_number == order.number
