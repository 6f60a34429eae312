"""API.md "Types are strict" for returns (issue 8): a return's state change took
`"inspection_note": 0` with APPROVED and answered 200; ids given as integers or bare hex were
read as UUIDs; quantities as strings were converted."""

import pytest

from orders.tests.helpers import assert_error
from returns.models import Return

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        {"new_state": "APPROVED", "inspection_note": 0},
        {"new_state": "APPROVED", "reason": 5},
        {"new_state": "APPROVED", "reason": "ok\x1b[2J"},
        {"new_state": "REJECTED", "reason": ["outside policy"]},
        {"new_state": "IN_TRANSIT", "carrier": 7},
        {"new_state": 1},
    ],
    ids=["note-int", "reason-int", "reason-escape", "reason-list", "carrier-int", "state-int"],
)
def test_state_change_refuses_wrong_types(api, make_return, body):
    # given
    return_obj = make_return()

    # when
    response = api["Manager"].patch(f"/api/v1/returns/{return_obj.pk}/state", body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]
    assert Return.objects.get(pk=return_obj.pk).status == "REQUESTED"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_id", 1),
        ("order_id", "HEX"),
        ("order_id", "URN"),
        ("items.0.quantity", "1"),
        ("items.0.line_item_id", "INT"),
        ("comment", 12),
    ],
)
def test_create_refuses_wrong_types(api, make_delivered_order, field, value):
    # given
    order = make_delivered_order()
    line = order.items.order_by("position").first()
    value = {"HEX": order.pk.hex, "URN": order.pk.urn, "INT": line.pk.int}.get(value, value)
    body = {
        "order_id": str(order.pk),
        "reason": "DAMAGED",
        "items": [{"line_item_id": str(line.pk), "quantity": 1}],
    }
    if field.startswith("items."):
        body["items"][0][field.split(".")[-1]] = value
    else:
        body[field] = value

    # when
    response = api["Integrator"].post("/api/v1/returns", body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == [field]
    assert not Return.objects.exists()
