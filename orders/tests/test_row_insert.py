"""The INSERTs written by hand on hot paths (articurated.db.rows_insert_sql) send what Django's
own save would send for every column: a text column's str as it is, everything else through
the field's get_db_prep_save."""

import uuid
from decimal import Decimal
from unittest import mock

from django.db import connection, models
from django.utils import timezone
from django.utils.functional import lazy

from articurated.db import _saved_as_is_when_str, rows_insert_sql
from orders.models import Order


def _django_params(instance) -> list:
    return [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for field in instance._meta.concrete_fields
    ]


def test_an_orders_insert_parameters_are_djangos(db):
    # given: text given as a lazy string and as a number, money, dates, a key
    order = Order(
        id=uuid.uuid4(),
        number=lazy(lambda: "ORD-2026-000001", str)(),
        customer_email="ada@example.com",
        customer_name="Ada",
        currency="USD",
        subtotal=Decimal("10.5"),
        shipping_amount=Decimal("0"),
        tax_amount=Decimal("0"),
        total_amount=Decimal("10.5"),
        shipping_postal_code=12345,
    )

    # when: at one moment (updated_at is auto_now)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now()):
        _, params = rows_insert_sql([order], connection)
        expected = _django_params(order)

    # then
    assert [(type(p), p) for p in params] == [(type(p), p) for p in expected]
    assert "ORD-2026-000001" in params and "12345" in params


class _Shouting(models.CharField):
    def get_prep_value(self, value):
        return super().get_prep_value(value).upper()


def test_a_text_field_that_changes_its_value_is_asked():
    shouting = _Shouting(max_length=10)
    shouting.set_attributes_from_name("code")
    assert not _saved_as_is_when_str(shouting)
    assert _saved_as_is_when_str(Order._meta.get_field("customer_email"))
    assert not _saved_as_is_when_str(Order._meta.get_field("subtotal"))
