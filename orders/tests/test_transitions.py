"""PATCH /api/v1/orders/{id}/state for every ordered pair of states (PRODUCT.md "Orders")."""

import itertools

import pytest

from audit.models import AuditRecord
from orders.models import Order
from orders.tests.helpers import (
    NEXT_STATES,
    ORDER_STATES,
    STATE_INPUTS,
    assert_error,
    db_snapshot,
    state_path,
)

ALLOWED = {
    ("PENDING_PAYMENT", "PAID"): "pay",
    ("PENDING_PAYMENT", "CANCELLED"): "cancel",
    ("PAID", "PROCESSING_IN_WAREHOUSE"): "start_processing",
    ("PAID", "CANCELLED"): "cancel",
    ("PROCESSING_IN_WAREHOUSE", "SHIPPED"): "ship",
    ("SHIPPED", "DELIVERED"): "deliver",
}
REFUSED = [pair for pair in itertools.product(ORDER_STATES, repeat=2) if pair not in ALLOWED]

# What the audit record keeps of each transition's inputs (reason has its own column).
AUDIT_METADATA = {
    "pay": {"payment_reference": "pay_8XK2", "payment_method": "card"},
    "start_processing": {},
    "ship": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "deliver": {},
    "cancel": {},
}
# The order fields a user sees filled in by each transition.
FILLED_IN = {
    "pay": {"payment_reference": "pay_8XK2", "payment_method": "card"},
    "start_processing": {},
    "ship": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "deliver": {},
    "cancel": {"cancellation_reason": "customer asked"},
}
MILESTONE = {
    "pay": "paid_at",
    "ship": "shipped_at",
    "deliver": "delivered_at",
    "cancel": "cancelled_at",
}


def test_the_matrix_covers_all_36_pairs():
    assert len(ALLOWED) + len(REFUSED) == 36 == len(ORDER_STATES) ** 2


@pytest.mark.parametrize(("current", "target"), list(ALLOWED), ids=[f"{a}→{b}" for a, b in ALLOWED])
def test_allowed_transition_changes_state_and_writes_one_audit_record(
    api, users, make_order, current, target
):
    # given
    order = make_order(current)
    audit_before = set(AuditRecord.objects.filter(entity_id=order.pk).values_list("id", flat=True))
    history_before = order.history.count()
    transition = ALLOWED[current, target]

    # when
    response = api["admin"].patch(
        state_path(order.pk),
        {"new_state": target, **STATE_INPUTS[target]},
        format="json",
        HTTP_X_REQUEST_ID="req-transition-42",
    )

    # then the response is the order in its new state
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == str(order.pk)
    assert body["status"] == target
    assert body["allowed_transitions"] == NEXT_STATES[target]
    for field, value in FILLED_IN[transition].items():
        assert body[field] == value
    if transition in MILESTONE:
        assert body[MILESTONE[transition]] is not None
    assert response["X-Request-ID"] == "req-transition-42"
    # and the database agrees
    assert Order.objects.get(pk=order.pk).status == target
    # and exactly one audit record describes the change
    new_records = AuditRecord.objects.filter(entity_id=order.pk).exclude(id__in=audit_before)
    assert new_records.count() == 1
    record = new_records.get()
    assert record.entity_type == "ORDER"
    assert record.entity_number == order.number
    assert record.transition == transition
    assert record.previous_state == current
    assert record.new_state == target
    assert record.actor == users["admin"]
    assert record.actor_type == "USER"
    assert record.source == "API"
    assert record.metadata == AUDIT_METADATA[transition]
    assert record.reason == ("customer asked" if transition == "cancel" else None)
    assert record.request_id == "req-transition-42"
    assert record.ip_address == "127.0.0.1"
    # and the field history gained one row, by the same user
    assert order.history.count() == history_before + 1
    latest = order.history.latest()
    assert latest.status == target
    assert latest.history_user == users["admin"]


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}→{b}" for a, b in REFUSED])
def test_refused_transition_is_409_and_writes_nothing(api, make_order, current, target):
    # given
    order = make_order(current)
    before = db_snapshot()

    # when
    response = api["admin"].patch(
        state_path(order.pk), {"new_state": target, **STATE_INPUTS[target]}, format="json"
    )

    # then
    error = assert_error(response, 409, "INVALID_STATE_TRANSITION")
    assert error["message"] == f"Cannot move order {order.number} from {current} to {target}."
    assert error["details"] == {
        "current_state": current,
        "requested_state": target,
        "allowed_transitions": NEXT_STATES[current],
    }
    assert db_snapshot() == before


def test_post_is_accepted_like_patch(api, make_order):
    # given
    order = make_order("PAID")

    # when
    response = api["admin"].post(
        state_path(order.pk), {"new_state": "PROCESSING_IN_WAREHOUSE"}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "PROCESSING_IN_WAREHOUSE"
    assert Order.objects.get(pk=order.pk).status == "PROCESSING_IN_WAREHOUSE"
    assert (
        AuditRecord.objects.filter(entity_id=order.pk, transition="start_processing").count() == 1
    )


@pytest.mark.parametrize("method", ["patch", "post"])
def test_trailing_slash_works_without_redirect(api, make_order, method):
    # given
    order = make_order("SHIPPED")

    # when
    response = getattr(api["admin"], method)(
        state_path(order.pk, slash=True), {"new_state": "DELIVERED"}, format="json"
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "DELIVERED"
    assert Order.objects.get(pk=order.pk).status == "DELIVERED"


@pytest.mark.parametrize(
    "body",
    [
        {"new_state": "LOST_IN_SPACE"},
        {"new_state": "paid"},
        {"new_state": ""},
        {"new_state": None},
        {"new_state": 3},
        {},
    ],
    ids=["unknown", "lower-case", "empty", "null", "number", "absent"],
)
def test_unknown_or_missing_new_state_is_a_validation_error(api, make_order, body):
    # given
    order = make_order("PENDING_PAYMENT")
    before = db_snapshot()

    # when
    response = api["admin"].patch(state_path(order.pk), body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["new_state"]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("current", "body", "missing"),
    [
        ("PENDING_PAYMENT", {"new_state": "PAID"}, "payment_reference"),
        ("PENDING_PAYMENT", {"new_state": "PAID", "payment_method": "card"}, "payment_reference"),
        ("PENDING_PAYMENT", {"new_state": "PAID", "payment_reference": ""}, "payment_reference"),
        ("PROCESSING_IN_WAREHOUSE", {"new_state": "SHIPPED", "carrier": "UPS"}, "tracking_number"),
        (
            "PROCESSING_IN_WAREHOUSE",
            {"new_state": "SHIPPED", "carrier": "UPS", "tracking_number": ""},
            "tracking_number",
        ),
        (
            "PROCESSING_IN_WAREHOUSE",
            {"new_state": "SHIPPED", "tracking_number": "1Z999AA10123456784"},
            "carrier",
        ),
        ("PENDING_PAYMENT", {"new_state": "CANCELLED"}, "reason"),
        ("PAID", {"new_state": "CANCELLED"}, "reason"),
        ("PAID", {"new_state": "CANCELLED", "reason": ""}, "reason"),
        ("PAID", {"new_state": "CANCELLED", "reason": None}, "reason"),
    ],
    ids=[
        "paid-without-reference",
        "paid-with-method-only",
        "paid-with-blank-reference",
        "shipped-without-tracking",
        "shipped-with-blank-tracking",
        "shipped-without-carrier",
        "cancel-pending-without-reason",
        "cancel-paid-without-reason",
        "cancel-with-blank-reason",
        "cancel-with-null-reason",
    ],
)
def test_missing_required_input_is_400_naming_the_field(api, make_order, current, body, missing):
    # given
    order = make_order(current)
    before = db_snapshot()

    # when
    response = api["admin"].patch(state_path(order.pk), body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert missing in error["details"]
    assert all(isinstance(m, str) for m in error["details"][missing])
    assert db_snapshot() == before


def test_unknown_order_is_404(api, db):
    # given an id no order has
    missing_id = "3f2c1a9e-0000-4000-8000-000000000000"

    # when
    response = api["admin"].patch(
        state_path(missing_id), {"new_state": "PAID", "payment_reference": "p"}, format="json"
    )

    # then
    assert_error(response, 404, "NOT_FOUND")
    assert AuditRecord.objects.count() == 0


def test_a_full_lifecycle_leaves_a_complete_trail(api, make_order):
    # given
    order = make_order("PENDING_PAYMENT")

    # when it is paid, processed, shipped and delivered over the API
    for target in ["PAID", "PROCESSING_IN_WAREHOUSE", "SHIPPED", "DELIVERED"]:
        response = api["admin"].patch(
            state_path(order.pk), {"new_state": target, **STATE_INPUTS[target]}, format="json"
        )
        assert response.status_code == 200, response.json()

    # then the trail holds one record per step, in order, chained state to state
    records = list(AuditRecord.objects.filter(entity_id=order.pk).order_by("created_at", "id"))
    assert [r.transition for r in records] == [
        "create",
        "pay",
        "start_processing",
        "ship",
        "deliver",
    ]
    assert [r.previous_state for r in records] == [None, *(r.new_state for r in records[:-1])]
    body = response.json()
    assert body["allowed_transitions"] == []
    assert body["paid_at"] and body["shipped_at"] and body["delivered_at"]
    assert body["cancelled_at"] is None
