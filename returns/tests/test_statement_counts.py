"""Each return endpoint, and the audit list, answers with a fixed number of SQL statements
whatever the page size (QUALITY.md: statements, not milliseconds, are what we pin)."""

import pytest

from returns.tests.conftest import RETURN_STATES, TRANSITION_PARAMS, return_make

RETURNS = "/api/v1/returns"

# Token and roles, count, page (order, decider and refund joined), lines (with their items).
LIST = 4
# Token and roles, the return with its joins, lines.
RETRIEVE = 3
# Token and roles, does the return exist, count, page.
HISTORY = 4
# Token and roles, 2 savepoints and releases, the order's id, its lock, the return's lock,
# update, history row, audit record, lines: no second read of the return.
# Plus the webhook event written with the audit record: its snapshot, the event row, the
# subscribed endpoints.
STATE = 12 + 3
# Token and roles, count, page (actors joined).
AUDIT = 3


@pytest.fixture
def many_returns(db):
    """18 returns in every state, so a per-row query would show up 18 times."""
    return [return_make(RETURN_STATES[n % len(RETURN_STATES)]) for n in range(18)]


def test_list_statements_do_not_grow_with_the_page(
    api, many_returns, django_assert_max_num_queries
):
    with django_assert_max_num_queries(LIST):
        response = api["Manager"].get(RETURNS, {"page_size": 100})
    assert len(response.json()["results"]) == 18
    assert any(r["refund"] for r in response.json()["results"])


def test_retrieve_and_history_statements(api, many_returns, django_assert_max_num_queries):
    completed = next(r for r in many_returns if r.status == "COMPLETED")
    with django_assert_max_num_queries(RETRIEVE):
        body = api["Warehouse"].get(f"{RETURNS}/{completed.pk}").json()
    assert body["refund"]["status"] == "PENDING"
    with django_assert_max_num_queries(HISTORY):
        history = api["Support"].get(f"{RETURNS}/{completed.pk}/history", {"page_size": 100})
    assert len(history.json()["results"]) == 5


def test_state_change_answers_from_the_row_it_locked(
    api, many_returns, django_assert_max_num_queries
):
    requested = next(r for r in many_returns if r.status == "REQUESTED")
    with django_assert_max_num_queries(STATE):
        response = api["Manager"].patch(
            f"{RETURNS}/{requested.pk}/state",
            {"new_state": "APPROVED", **TRANSITION_PARAMS["APPROVED"]},
            format="json",
        )
    body = response.json()
    assert body["status"] == "APPROVED" and body["decided_by"]["username"] == "manager"
    assert body["order_number"].startswith("ORD-") and len(body["items"]) == 2


def test_audit_list_statements(api, many_returns, django_assert_max_num_queries):
    with django_assert_max_num_queries(AUDIT):
        response = api["Manager"].get("/api/v1/audit", {"page_size": 100})
    assert len(response.json()["results"]) == 100 and response.json()["next"]
