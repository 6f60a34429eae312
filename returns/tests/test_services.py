"""Opening returns: which orders, when, which units; and what each transition stores."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from articurated.errors import PermissionDenied, ValidationFailed
from audit.models import AuditRecord
from conftest import TEST_CONTEXT
from orders.models import LineItem, Order
from returns.errors import OrderNotReturnable, ReturnWindowExpired
from returns.models import Return, ReturnStatus
from returns.services import (
    return_approve,
    return_complete,
    return_create,
    return_reject,
)
from returns.signals import return_completed

pytestmark = pytest.mark.django_db


def _create(order, **kwargs):
    return return_create(
        actor=kwargs.pop("actor", None),
        context=TEST_CONTEXT,
        order_id=order.pk,
        reason=kwargs.pop("reason", "DAMAGED"),
        **kwargs,
    )


def _lines(order) -> list[LineItem]:
    return list(LineItem.objects.filter(order=order).order_by("position"))


def _returned(order) -> list[int]:
    return [line.returned_quantity for line in _lines(order)]


# --- which orders, and when ------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["PENDING_PAYMENT", "PAID", "PROCESSING_IN_WAREHOUSE", "SHIPPED", "CANCELLED"]
)
def test_only_a_delivered_order_can_be_returned(make_order, status):
    # given an order that is not delivered
    order = make_order(status)
    audit_rows = AuditRecord.objects.count()

    # when a return is opened for it
    with pytest.raises(OrderNotReturnable) as refused:
        _create(order)

    # then it is refused with the order's status, and nothing is written
    assert refused.value.code == "ORDER_NOT_RETURNABLE"
    assert refused.value.status_code == 409
    assert refused.value.details == {"order_status": status}
    assert not Return.objects.exists()
    assert AuditRecord.objects.count() == audit_rows


def _delivered_at(order, moment):
    # Test setup only: move the delivery timestamp (never the status) into the past.
    Order.objects.filter(pk=order.pk).update(delivered_at=moment)


def test_a_return_on_the_last_second_of_the_window_is_accepted(make_delivered_order):
    # given an order delivered exactly 30 days before "now"
    now = timezone.now().replace(microsecond=0)
    order = make_delivered_order()
    _delivered_at(order, now - timedelta(days=30))

    # when a return is opened at that instant
    with mock.patch("django.utils.timezone.now", return_value=now):
        return_obj = _create(order)

    # then it is accepted
    assert return_obj.status == ReturnStatus.REQUESTED


def test_a_return_one_second_after_the_window_is_refused(make_delivered_order):
    # given an order delivered 30 days and one second before "now"
    now = timezone.now().replace(microsecond=0)
    order = make_delivered_order()
    delivered_at = now - timedelta(days=30, seconds=1)
    _delivered_at(order, delivered_at)

    # when a return is opened
    with mock.patch("django.utils.timezone.now", return_value=now):
        with pytest.raises(ReturnWindowExpired) as refused:
            _create(order)

    # then it is refused with the delivery time and the window
    assert refused.value.code == "RETURN_WINDOW_EXPIRED"
    assert refused.value.details == {
        "delivered_at": delivered_at.isoformat().replace("+00:00", "Z"),
        "window_days": 30,
    }
    assert not Return.objects.exists()


def test_the_window_follows_the_setting(make_delivered_order, settings):
    # given a 7-day window and an order delivered 8 days ago
    settings.RETURN_WINDOW_DAYS = 7
    order = make_delivered_order()
    _delivered_at(order, timezone.now() - timedelta(days=8))

    # when / then a return is refused, naming the 7 days
    with pytest.raises(ReturnWindowExpired) as refused:
        _create(order)
    assert refused.value.details["window_days"] == 7


# --- which units -----------------------------------------------------------------------------


def test_without_items_every_unit_comes_back_at_the_prices_paid(make_delivered_order):
    # given a delivered order of 2 vases at 49.50 and 3 bowls at 20.00
    order = make_delivered_order()

    # when a return is opened without items
    return_obj = _create(order, comment="all of it")

    # then it takes every unit, and the refund is the units' prices
    lines = {line.line_item.sku: line for line in return_obj.lines.select_related("line_item")}
    assert {sku: line.quantity for sku, line in lines.items()} == {"VASE-01": 2, "BOWL-02": 3}
    assert lines["VASE-01"].refund_amount == Decimal("99.00")
    assert return_obj.refund_amount == Decimal("159.00")
    assert return_obj.currency == "USD"
    assert return_obj.number.startswith(f"RMA-{timezone.now().year}-")
    assert _returned(order) == [2, 3]


def test_partial_returns_add_up_to_what_was_ordered(make_delivered_order):
    # given a return of one vase
    order = make_delivered_order()
    vase, bowl = _lines(order)
    first = _create(order, items=[{"line_item_id": vase.pk, "quantity": 1}])

    # when a second return is opened without items
    second = _create(order)

    # then it takes only what was left: one vase and three bowls
    assert first.refund_amount == Decimal("49.50")
    assert sorted((line.line_item_id, line.quantity) for line in second.lines.all()) == sorted(
        [(vase.pk, 1), (bowl.pk, 3)]
    )
    assert second.refund_amount == Decimal("109.50")
    assert _returned(order) == [2, 3]

    # and a third finds nothing left
    with pytest.raises(ValidationFailed) as refused:
        _create(order)
    assert list(refused.value.details) == ["items"]


def test_units_beyond_what_is_left_are_refused_per_item(make_delivered_order):
    # given one of two vases already in a return
    order = make_delivered_order()
    vase, bowl = _lines(order)
    _create(order, items=[{"line_item_id": vase.pk, "quantity": 1}])
    audit_rows = AuditRecord.objects.count()

    # when a return asks for 1 bowl and 2 vases
    with pytest.raises(ValidationFailed) as refused:
        _create(
            order,
            items=[
                {"line_item_id": bowl.pk, "quantity": 1},
                {"line_item_id": vase.pk, "quantity": 2},
            ],
        )

    # then the vase entry is named, and nothing is written
    assert refused.value.code == "VALIDATION_ERROR"
    assert list(refused.value.details) == ["items.1.quantity"]
    assert "Only 1 of 2 units of VASE-01" in refused.value.details["items.1.quantity"][0]
    assert Return.objects.count() == 1
    assert AuditRecord.objects.count() == audit_rows
    assert _returned(order) == [1, 0]


def test_foreign_duplicate_and_missing_items_are_refused(make_delivered_order):
    # given two orders
    order, other = make_delivered_order(), make_delivered_order()
    vase = _lines(order)[0]

    # when a return lists another order's line, the same line twice, and nothing at all
    with pytest.raises(ValidationFailed) as foreign:
        _create(order, items=[{"line_item_id": _lines(other)[0].pk, "quantity": 1}])
    with pytest.raises(ValidationFailed) as twice:
        _create(
            order,
            items=[
                {"line_item_id": vase.pk, "quantity": 1},
                {"line_item_id": vase.pk, "quantity": 1},
            ],
        )
    with pytest.raises(ValidationFailed) as empty:
        _create(order, items=[])

    # then each names the offending entry
    assert list(foreign.value.details) == ["items.0.line_item_id"]
    assert list(twice.value.details) == ["items.1.line_item_id"]
    assert list(empty.value.details) == ["items"]
    assert not Return.objects.exists()


def test_unknown_reason_and_unknown_order_are_field_errors(make_delivered_order):
    order = make_delivered_order()

    with pytest.raises(ValidationFailed) as bad_reason:
        _create(order, reason="BORED")
    with pytest.raises(ValidationFailed) as no_order:
        return_create(
            actor=None,
            context=TEST_CONTEXT,
            order_id="00000000-0000-0000-0000-000000000000",
            reason="DAMAGED",
        )

    assert list(bad_reason.value.details) == ["reason"]
    assert list(no_order.value.details) == ["order_id"]


def test_a_rejected_return_frees_its_units(make_delivered_order, users):
    # given a return of every unit
    order = make_delivered_order()
    return_obj = _create(order)

    # when a manager rejects it
    rejected = return_reject(
        return_id=return_obj.pk, actor=users["Manager"], context=TEST_CONTEXT, reason="no photos"
    )

    # then its units count as not returned, and may be returned again
    assert rejected.status == ReturnStatus.REJECTED
    assert _returned(order) == [0, 0]
    again = _create(order)
    assert sum(line.quantity for line in again.lines.all()) == 5
    assert _returned(order) == [2, 3]


def test_creation_writes_one_audit_record(make_delivered_order, users):
    # given a delivered order
    order = make_delivered_order()

    # when support opens a return for one vase
    vase = _lines(order)[0]
    return_obj = _create(
        order,
        actor=users["Support"],
        comment="crack on the rim",
        items=[{"line_item_id": vase.pk, "quantity": 1}],
    )

    # then one RETURN `create` record tells who, what and why
    record = AuditRecord.objects.get(entity_id=return_obj.pk)
    assert (record.entity_type, record.transition) == ("RETURN", "create")
    assert (record.previous_state, record.new_state) == (None, "REQUESTED")
    assert record.entity_number == return_obj.number
    assert record.actor == users["Support"]
    assert record.reason == "crack on the rim"
    assert record.metadata["reason"] == "DAMAGED"
    assert record.metadata["items"] == [
        {"line_item_id": str(vase.pk), "sku": "VASE-01", "quantity": 1}
    ]
    assert return_obj.created_by == users["Support"]


def test_warehouse_may_not_open_returns(make_delivered_order, users):
    order = make_delivered_order()

    with pytest.raises(PermissionDenied):
        _create(order, actor=users["Warehouse"])

    assert not Return.objects.exists()


# --- what transitions store and send ---------------------------------------------------------


def test_the_decision_records_reason_who_and_when(make_return, users):
    # given a requested return
    return_obj = make_return()

    # when a manager approves it with a reason
    approved = return_approve(
        return_id=return_obj.pk, actor=users["Manager"], context=TEST_CONTEXT, reason="fair claim"
    )

    # then the return carries the decision, and the audit record the transition
    approved = Return.objects.get(pk=approved.pk)
    assert approved.status == ReturnStatus.APPROVED
    assert approved.decision_reason == "fair claim"
    assert approved.decided_by == users["Manager"]
    assert approved.decided_at is not None
    record = AuditRecord.objects.filter(entity_id=return_obj.pk).last()
    assert (record.transition, record.previous_state, record.new_state) == (
        "approve",
        "REQUESTED",
        "APPROVED",
    )
    assert record.reason == "fair claim"
    assert approved.history.count() == 2  # field history: created, then approved


def test_a_rejection_needs_a_reason(make_return, users):
    # given a requested return
    return_obj = make_return()

    # when it is rejected without a reason
    with pytest.raises(ValidationFailed) as refused:
        return_reject(
            return_id=return_obj.pk, actor=users["Manager"], context=TEST_CONTEXT, reason=""
        )

    # then nothing changes
    assert refused.value.details == {"reason": ["This field is required."]}
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.REQUESTED
    assert AuditRecord.objects.filter(entity_id=return_obj.pk).count() == 1


def test_completion_tells_payments_inside_the_transaction(make_return, users):
    # given a received return and a subscriber like the payments app
    return_obj = make_return("RECEIVED")
    seen = []

    def receiver(sender, return_request, actor, context, **kwargs):
        seen.append(
            (
                return_request.pk,
                return_request.status,
                actor,
                transaction.get_connection().in_atomic_block,
            )
        )

    return_completed.connect(receiver, weak=False, dispatch_uid="test-receiver")
    try:
        # when the warehouse completes it
        return_complete(return_id=return_obj.pk, actor=users["Warehouse"], context=TEST_CONTEXT)
    finally:
        return_completed.disconnect(dispatch_uid="test-receiver")

    # then the subscriber heard it once, while the transaction was still open
    assert seen == [(return_obj.pk, "COMPLETED", users["Warehouse"], True)]
    assert Return.objects.get(pk=return_obj.pk).completed_at is not None


def test_a_failing_subscriber_undoes_the_completion(make_return, users):
    # given a received return and a subscriber that fails to record its refund
    return_obj = make_return("RECEIVED")
    audit_rows = AuditRecord.objects.filter(entity_id=return_obj.pk).count()

    def receiver(**kwargs):
        raise RuntimeError("refund table unavailable")

    return_completed.connect(receiver, weak=False, dispatch_uid="test-failing-receiver")
    try:
        # when the warehouse completes it
        with pytest.raises(RuntimeError):
            return_complete(return_id=return_obj.pk, actor=users["Warehouse"], context=TEST_CONTEXT)
    finally:
        return_completed.disconnect(dispatch_uid="test-failing-receiver")

    # then the return is still RECEIVED and no completion was recorded
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.RECEIVED
    assert AuditRecord.objects.filter(entity_id=return_obj.pk).count() == audit_rows
