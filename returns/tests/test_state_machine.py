"""Every ordered pair of return states, and every role against every transition (over REST)."""

import itertools

import pytest

from audit.models import AuditRecord
from returns.models import Return
from returns.tests.conftest import RETURN_STATES, TRANSITION_PARAMS

pytestmark = pytest.mark.django_db

# PRODUCT.md, "Returns": the only moves there are.
ALLOWED = {
    ("REQUESTED", "APPROVED"),
    ("REQUESTED", "REJECTED"),
    ("APPROVED", "IN_TRANSIT"),
    ("IN_TRANSIT", "RECEIVED"),
    ("RECEIVED", "COMPLETED"),
}
NEXT = {
    "REQUESTED": ["APPROVED", "REJECTED"],
    "APPROVED": ["IN_TRANSIT"],
    "REJECTED": [],
    "IN_TRANSIT": ["RECEIVED"],
    "RECEIVED": ["COMPLETED"],
    "COMPLETED": [],
}
# Who may make each transition, named by its target state ("admin" is a superuser).
MAY = {
    "APPROVED": {"Manager", "admin"},
    "REJECTED": {"Manager", "admin"},
    "IN_TRANSIT": {"Integrator", "Support", "Warehouse", "Manager", "admin"},
    "RECEIVED": {"Warehouse", "Manager", "admin"},
    "COMPLETED": {"Warehouse", "Manager", "admin"},
}
ROLES = ["Warehouse", "Support", "Manager", "Integrator", "admin"]


def test_the_state_machine_has_exactly_the_moves_of_the_product_table():
    transitions = Return._meta.get_field("status").get_all_transitions(Return)
    assert {(str(t.source), str(t.target)) for t in transitions} == ALLOWED


@pytest.mark.parametrize(
    ("current", "requested"), list(itertools.product(RETURN_STATES, RETURN_STATES))
)
def test_every_pair_of_states(api, make_return, current, requested):
    # given a return in `current`
    return_obj = make_return(current)
    records = AuditRecord.objects.filter(entity_id=return_obj.pk).count()

    # when a superuser asks for `requested`, with whatever that transition needs
    response = api["admin"].patch(
        f"/api/v1/returns/{return_obj.pk}/state",
        {"new_state": requested, **TRANSITION_PARAMS.get(requested, {})},
        format="json",
    )

    # then only the moves of the product table happen, each with one audit record
    body = response.json()
    if (current, requested) in ALLOWED:
        assert response.status_code == 200, body
        assert body["status"] == requested
        assert body["allowed_transitions"] == NEXT[requested]
        assert AuditRecord.objects.filter(entity_id=return_obj.pk).count() == records + 1
    else:
        assert response.status_code == 409, body
        assert body["error"]["code"] == "INVALID_STATE_TRANSITION"
        assert body["error"]["details"] == {
            "current_state": current,
            "requested_state": requested,
            "allowed_transitions": NEXT[current],
        }
        assert Return.objects.get(pk=return_obj.pk).status == current
        assert AuditRecord.objects.filter(entity_id=return_obj.pk).count() == records


@pytest.mark.parametrize(("role", "target"), list(itertools.product(ROLES, MAY)))
def test_every_role_against_every_transition(api, make_return, role, target):
    # given a return in the state the transition starts from
    source = next(s for s, t in ALLOWED if t == target)
    return_obj = make_return(source)
    records = AuditRecord.objects.filter(entity_id=return_obj.pk).count()

    # when `role` asks for it
    response = api[role].patch(
        f"/api/v1/returns/{return_obj.pk}/state",
        {"new_state": target, **TRANSITION_PARAMS[target]},
        format="json",
    )

    # then exactly the roles of the product table may, and a refusal writes nothing
    if role in MAY[target]:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == target
    else:
        assert response.status_code == 403, response.json()
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"
        assert Return.objects.get(pk=return_obj.pk).status == source
        assert AuditRecord.objects.filter(entity_id=return_obj.pk).count() == records


@pytest.mark.parametrize("role", ROLES)
def test_a_role_that_may_never_approve_gets_403_whatever_the_state(api, make_return, role):
    # given a return that is already completed (so approving is not allowed now for anyone)
    return_obj = make_return("COMPLETED")

    # when `role` asks to approve it
    response = api[role].patch(
        f"/api/v1/returns/{return_obj.pk}/state", {"new_state": "APPROVED"}, format="json"
    )

    # then a role that may never approve learns nothing about the state
    expected = 409 if role in MAY["APPROVED"] else 403
    assert response.status_code == expected, response.json()


def test_the_full_path_is_reachable_over_rest(api, make_return):
    # given a requested return
    return_obj = make_return()
    url = f"/api/v1/returns/{return_obj.pk}/state"

    # when each role does its part (POST is accepted too, with or without the slash)
    steps = [
        ("Manager", "patch", url, {"new_state": "APPROVED"}),
        ("Integrator", "post", f"{url}/", {"new_state": "IN_TRANSIT", "carrier": "DHL"}),
        ("Warehouse", "patch", url, {"new_state": "RECEIVED", "inspection_note": "as described"}),
        ("Warehouse", "post", url, {"new_state": "COMPLETED"}),
    ]
    for role, method, path, body in steps:
        response = getattr(api[role], method)(path, body, format="json")
        assert response.status_code == 200, (role, response.json())

    # then the return carries what each step gave it
    body = response.json()
    assert body["status"] == "COMPLETED"
    assert body["carrier"] == "DHL"
    assert body["tracking_number"] is None
    assert body["inspection_note"] == "as described"
    assert body["received_at"] is not None
    assert body["completed_at"] is not None
    assert body["allowed_transitions"] == []
    history = [
        (r.transition, r.actor.username)
        for r in AuditRecord.objects.filter(entity_id=return_obj.pk)[1:]
    ]
    assert history == [
        ("approve", "manager"),
        ("mark_in_transit", "integrator"),
        ("receive", "warehouse"),
        ("complete", "warehouse"),
    ]
