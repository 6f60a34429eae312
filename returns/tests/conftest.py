"""Returns built through the real services, in any state, on top of the root fixtures."""

import pytest

from conftest import TEST_CONTEXT, order_make

TWO_LINES = [
    {"sku": "VASE-01", "name": "Hand-thrown vase", "quantity": 2, "unit_price": "49.50"},
    {"sku": "BOWL-02", "name": "Glazed bowl", "quantity": 3, "unit_price": "20.00"},
]

# The inputs each target state's transition takes (REJECTED needs its reason).
TRANSITION_PARAMS = {
    "APPROVED": {"reason": "looks genuine"},
    "REJECTED": {"reason": "outside policy"},
    "IN_TRANSIT": {"carrier": "UPS", "tracking_number": "1ZRETURN0001"},
    "RECEIVED": {"inspection_note": "rim cracked as described"},
    "COMPLETED": {},
}
# The path of transitions from REQUESTED to each state.
PATH_TO = {
    "REQUESTED": [],
    "APPROVED": ["APPROVED"],
    "REJECTED": ["REJECTED"],
    "IN_TRANSIT": ["APPROVED", "IN_TRANSIT"],
    "RECEIVED": ["APPROVED", "IN_TRANSIT", "RECEIVED"],
    "COMPLETED": ["APPROVED", "IN_TRANSIT", "RECEIVED", "COMPLETED"],
}
RETURN_STATES = list(PATH_TO)


def delivered_order(**overrides):
    """A DELIVERED order (delivered just now), with two lines unless told otherwise."""
    return order_make("DELIVERED", **{"items": TWO_LINES, **overrides})


def return_make(status: str = "REQUESTED", *, order=None, items=None, reason="DAMAGED", **kw):
    """A return in `status`, opened and moved by the system through the real services."""
    from returns.services import return_change_state, return_create

    order = order or delivered_order()
    return_obj = return_create(
        actor=None, context=TEST_CONTEXT, order_id=order.pk, reason=reason, items=items, **kw
    )
    for state in PATH_TO[status]:
        return_obj = return_change_state(
            return_id=return_obj.pk,
            actor=None,
            context=TEST_CONTEXT,
            new_state=state,
            **TRANSITION_PARAMS[state],
        )
    return return_obj


@pytest.fixture
def make_return(db):
    return return_make


@pytest.fixture
def make_delivered_order(db):
    return delivered_order
