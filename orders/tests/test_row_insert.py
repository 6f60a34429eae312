"""The INSERTs written by hand on hot paths (articurated.db.rows_insert_sql) send what Django's
own save would send for every column: text, keys and empty values as they are where Django
would give them back unchanged, everything else through the field's get_db_prep_save. On
SQLite and PostgreSQL alike (a UUID is sent as hex to one, as a UUID to the other)."""

import uuid
from decimal import Decimal
from unittest import mock

from django.db import connection, models
from django.utils import timezone
from django.utils.functional import lazy

from articurated.db import _saved_as_is, rows_insert_sql
from audit.models import AuditRecord
from orders.models import LineItem, Order


def _django_params(instances) -> list:
    return [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for instance in instances
        for field in instance._meta.concrete_fields
    ]


def _assert_params_are_djangos(instances) -> list:
    # at one moment: auto_now fields take it
    with mock.patch("django.utils.timezone.now", return_value=timezone.now()):
        _, params = rows_insert_sql(instances, connection)
        expected = _django_params(instances)
    assert list(map(_comparable, params)) == list(map(_comparable, expected))
    return params


def _comparable(param) -> tuple:
    # psycopg's Jsonb wrapper has no equality of its own: compare what it wraps.
    return type(param), getattr(param, "obj", param)


def test_an_orders_insert_parameters_are_djangos(db):
    # given: text given as a lazy string and as a number, money, dates, a key, no creator
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

    # when, then
    params = _assert_params_are_djangos([order])
    assert "ORD-2026-000001" in params and "12345" in params


def test_lines_and_an_audit_records_parameters_are_djangos(db):
    # given: keys given as UUIDs and as text, foreign keys set and empty, JSON
    order_id = uuid.uuid4()
    lines = [
        LineItem(id=uuid.uuid4(), order_id=order_id, position=0, sku="A", name="Vase",
                 quantity=2, unit_price=Decimal("4.50"), line_total=Decimal("9.00")),
        LineItem(id=str(uuid.uuid4()), order_id=str(order_id), position=1, sku="B", name="Bowl",
                 quantity=1, unit_price=Decimal("3"), line_total=Decimal("3"),
                 catalogue_sku_id=None),
    ]  # fmt: skip
    record = AuditRecord(
        id=uuid.uuid4(),
        entity_type="ORDER",
        entity_id=order_id,
        entity_number="ORD-2026-000001",
        order_id=None,
        transition="create",
        previous_state=None,
        new_state="PENDING_PAYMENT",
        actor=None,
        actor_type="SYSTEM",
        source="api",
        metadata={"total_amount": "9.00"},
        ip_address="127.0.0.1",
        request_id="r-1",
    )

    # when, then
    _assert_params_are_djangos(lines)
    _assert_params_are_djangos([record])


class _Shouting(models.CharField):
    def get_prep_value(self, value):
        return super().get_prep_value(value).upper()


def test_a_field_that_changes_its_value_is_asked():
    shouting = _Shouting(max_length=10)
    shouting.set_attributes_from_name("code")
    assert _saved_as_is(shouting, connection) == ()
    assert str in _saved_as_is(Order._meta.get_field("customer_email"), connection)
    assert _saved_as_is(Order._meta.get_field("subtotal"), connection) == ()
    native = connection.features.has_native_uuid_field
    assert (uuid.UUID in _saved_as_is(LineItem._meta.get_field("order"), connection)) is native
