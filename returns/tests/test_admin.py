"""The back-office: the managers' queue, decisions one by one and in bulk, read-only pages."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditRecord
from conftest import TEST_CONTEXT
from orders.models import LineItem
from returns.models import Return, ReturnStatus
from returns.services import return_approve

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:returns_return_changelist")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change_url(return_obj) -> str:
    return reverse("admin:returns_return_change", args=[return_obj.pk])


def _transition_url(return_obj, name: str) -> str:
    return reverse("admin:returns_return_transition", args=[return_obj.pk, name])


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_bulk_approve_reports_each_return(users, make_return):
    # given three requested returns, one of which another manager approves meanwhile
    first, second, third = make_return(), make_return(), make_return()
    selected = [str(r.pk) for r in (first, second, third)]
    client = _client(users["Manager"])
    asked = client.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": selected, "index": 0}
    )
    return_approve(return_id=third.pk, actor=users["admin"], context=TEST_CONTEXT)

    # when the manager confirms the bulk approval with one reason
    response = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": selected, "apply": "1", "reason": "ok"},
        follow=True,
    )

    # then the first page asked for the reason, and the result lists every return
    assert asked.status_code == 200
    assert b'name="reason"' in asked.content
    assert all(r.number.encode() in asked.content for r in (first, second, third))
    assert response.status_code == 200
    assert _messages(response) == [
        ("success", f"{first.number}: approved."),
        ("success", f"{second.number}: approved."),
        (
            "error",
            f"{third.number}: refused: "
            f"Return {third.number} is approved now; next it can be in transit.",
        ),
    ]
    for obj in (first, second):
        obj = Return.objects.get(pk=obj.pk)
        assert (obj.status, obj.decision_reason, obj.decided_by) == (
            "APPROVED",
            "ok",
            users["Manager"],
        )
        record = AuditRecord.objects.filter(entity_id=obj.pk, transition="approve").get()
        assert record.source == "ADMIN"
    assert AuditRecord.objects.filter(entity_id=third.pk, transition="approve").count() == 1


def test_bulk_reject_needs_a_reason(users, make_return):
    # given two requested returns
    returns = [make_return(), make_return()]
    selected = [str(r.pk) for r in returns]

    # when a manager confirms a bulk rejection without a reason
    response = _client(users["Manager"]).post(
        CHANGELIST,
        {"action": "reject_selected", "_selected_action": selected, "apply": "1", "reason": ""},
    )

    # then the page asks again and nothing is rejected
    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert set(Return.objects.values_list("status", flat=True)) == {"REQUESTED"}


def test_a_manager_approves_from_the_return_page(users, make_return):
    # given a requested return
    return_obj = make_return()
    client = _client(users["Manager"])

    # when the manager opens it, follows the Approve button and gives a reason
    page = client.get(_change_url(return_obj))
    form = client.get(_transition_url(return_obj, "approve"))
    response = client.post(_transition_url(return_obj, "approve"), {"reason": "fair"}, follow=True)

    # then the return is approved through the service, from the admin
    assert _transition_url(return_obj, "approve").encode() in page.content
    assert _transition_url(return_obj, "reject").encode() in page.content
    assert form.status_code == 200
    assert _messages(response) == [("success", f"{return_obj.number}: approved.")]
    return_obj = Return.objects.get(pk=return_obj.pk)
    assert (return_obj.status, return_obj.decision_reason) == ("APPROVED", "fair")
    assert AuditRecord.objects.filter(entity_id=return_obj.pk).last().source == "ADMIN"


def test_a_refused_transition_is_reported_on_the_page(users, make_return):
    # given a return that was already rejected
    return_obj = make_return("REJECTED")

    # when a manager posts the (stale) approve form
    response = _client(users["Manager"]).post(
        _transition_url(return_obj, "approve"), {"reason": ""}, follow=True
    )

    # then the refusal and its reason are shown
    assert _messages(response) == [
        (
            "error",
            f"{return_obj.number}: refused: Return {return_obj.number} is rejected now; "
            "nothing can follow.",
        )
    ]
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.REJECTED


@pytest.mark.parametrize("role", ["Warehouse", "Support"])
def test_warehouse_and_support_see_returns_but_no_decision_controls(users, make_return, role):
    # given a requested return
    return_obj = make_return()
    client = _client(users[role])

    # when they look at the list and the return, and try the decision URLs anyway
    listing = client.get(CHANGELIST)
    page = client.get(_change_url(return_obj))
    approve = client.post(_transition_url(return_obj, "approve"), {"reason": "x"})
    bulk = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [str(return_obj.pk)], "apply": "1"},
    )

    # then they see the return, but no approve or reject control works for them
    assert listing.status_code == page.status_code == 200
    assert return_obj.number.encode() in listing.content
    assert b"approve_selected" not in listing.content
    assert b"reject_selected" not in listing.content
    assert b"/transition/" not in page.content
    assert approve.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.REQUESTED


def test_the_warehouse_receives_a_parcel_from_the_return_page(users, make_return):
    # given a return in transit
    return_obj = make_return("IN_TRANSIT")
    client = _client(users["Warehouse"])

    # when the warehouse opens it and receives it with a note
    page = client.get(_change_url(return_obj))
    client.post(_transition_url(return_obj, "receive"), {"inspection_note": "intact"})

    # then only the Receive button was offered, and the note is stored
    assert _transition_url(return_obj, "receive").encode() in page.content
    assert page.content.count(b"/transition/") == 1
    return_obj = Return.objects.get(pk=return_obj.pk)
    assert (return_obj.status, return_obj.inspection_note) == ("RECEIVED", "intact")


def test_the_awaiting_approval_queue(users, make_return, make_delivered_order):
    # given two returns by the same customer, one by another, and one already approved
    older = make_return(comment="Crack on the rim")
    newer = make_return()
    stranger = make_return(
        order=make_delivered_order(customer={"email": "x@example.com", "name": "X"})
    )
    make_return("APPROVED")

    # when a manager opens the queue
    response = _client(users["Manager"]).get(CHANGELIST, {"queue": "awaiting"})

    # then it lists only requested returns, oldest first, with the customer's earlier returns
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [r.number for r in shown] == [older.number, newer.number, stranger.number]
    assert [r.earlier_count for r in shown] == [0, 1, 0]
    assert b"Crack on the rim" in response.content
    assert b"order value" in response.content.lower()
    assert b"earlier returns" in response.content.lower()


def test_nobody_edits_a_return_directly(users, make_return):
    # given a requested return
    return_obj = make_return()
    client = _client(users["admin"])

    # when even a superuser posts a change or a delete
    change = client.post(_change_url(return_obj), {"status": "COMPLETED", "comment": "x"})
    delete = client.post(
        reverse("admin:returns_return_delete", args=[return_obj.pk]), {"post": "yes"}
    )

    # then both are refused, and the read-only page and field history still work
    assert change.status_code == 403
    assert delete.status_code == 403
    assert Return.objects.get(pk=return_obj.pk).status == ReturnStatus.REQUESTED
    assert client.get(_change_url(return_obj)).status_code == 200
    history = reverse("admin:returns_return_history", args=[return_obj.pk])
    assert client.get(history).status_code == 200


def test_support_opens_a_partial_return_from_the_admin(users, make_delivered_order):
    # given a delivered order of 2 vases and 3 bowls
    order = make_delivered_order()
    vase, bowl = LineItem.objects.filter(order=order).order_by("position")
    client = _client(users["Support"])
    add = reverse("admin:returns_return_add")

    # when support finds the order by number and sends back one bowl
    found = client.get(add, {"order": order.number})
    response = client.post(
        f"{add}?order={order.number}",
        {"reason": "WRONG_ITEM", "comment": "", f"quantity_{vase.pk}": 0, f"quantity_{bowl.pk}": 1},
    )

    # then the return holds one bowl and was recorded as an admin action
    assert found.status_code == 200
    assert b"BOWL-02" in found.content
    return_obj = Return.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _change_url(return_obj)
    assert [(line.line_item_id, line.quantity) for line in return_obj.lines.all()] == [(bowl.pk, 1)]
    assert AuditRecord.objects.get(entity_id=return_obj.pk).source == "ADMIN"


def test_a_refused_admin_return_shows_why(users, make_order):
    # given an order that is not delivered yet
    order = make_order("SHIPPED")
    add = reverse("admin:returns_return_add")
    line = LineItem.objects.get(order=order)

    # when support looks it up to open a return, or posts the form anyway
    found = _client(users["Support"]).get(add, {"order": order.number})
    response = _client(users["Support"]).post(
        f"{add}?order={order.number}", {"reason": "DAMAGED", f"quantity_{line.pk}": 1}
    )

    # then the page says why at once, without a form to fill in, and nothing is created
    for page in (found, response):
        assert page.status_code == 200
        assert b"is shipped; only a delivered order can be returned" in page.content
        assert b'name="reason"' not in page.content
    assert not Return.objects.exists()


def test_warehouse_may_not_open_returns_in_the_admin(users):
    response = _client(users["Warehouse"]).get(reverse("admin:returns_return_add"))

    assert response.status_code == 403


RETURN_LIST_MAX = 15  # pinned: sidebar badges included (failing webhooks and low stock: 1 each)


def test_the_return_list_and_queue_cost_the_same_for_few_or_many(
    users, make_return, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(users["Manager"])
    client.get(reverse("admin:index"))

    def cost(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    make_return()
    few = [cost(CHANGELIST), cost(f"{CHANGELIST}?queue=awaiting")]
    for _ in range(5):
        make_return()
    with django_assert_max_num_queries(RETURN_LIST_MAX):
        client.get(f"{CHANGELIST}?queue=awaiting")
    assert [cost(CHANGELIST), cost(f"{CHANGELIST}?queue=awaiting")] == few
