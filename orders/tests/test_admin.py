"""The order back-office through Django's test client, as staff would use it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditRecord


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def transition_url(order, name):
    return reverse("admin:orders_order_transition", args=[order.pk, name])


@pytest.mark.parametrize(
    ("role", "status", "buttons"),
    [
        ("Warehouse", "PAID", ["Start processing"]),
        ("Warehouse", "PENDING_PAYMENT", []),
        ("Support", "PENDING_PAYMENT", ["Record payment", "Cancel order"]),
        ("Support", "PAID", ["Cancel order"]),
        ("Manager", "PROCESSING_IN_WAREHOUSE", ["Ship"]),
        ("Warehouse", "SHIPPED", ["Mark delivered"]),
        ("Manager", "DELIVERED", []),
    ],
)
def test_change_page_offers_exactly_the_transitions_the_user_may_make_now(
    login, make_order, role, status, buttons
):
    # given an order in `status`
    order = make_order(status)
    # when staff of `role` open it
    response = login(role).get(change_url(order))
    # then they see its lines, and the buttons are those their role may make from this state
    assert response.status_code == 200
    assert b"VASE-01" in response.content
    shown = [t["label"] for t in response.context["available_transitions"]]
    assert shown == buttons


def test_ship_button_asks_for_carrier_and_tracking_then_ships_through_the_service(
    login, make_order, users
):
    # given an order in the warehouse
    order = make_order("PROCESSING_IN_WAREHOUSE")
    client = login("Warehouse")
    # when the form is sent without a tracking number
    response = client.post(transition_url(order, "ship"), {"carrier": "UPS"})
    # then it asks again and nothing changes
    assert response.status_code == 200
    assert "tracking_number" in response.context["form"].errors
    order.refresh_from_db()
    assert order.status == "PROCESSING_IN_WAREHOUSE"

    # when it is complete
    response = client.post(
        transition_url(order, "ship"), {"carrier": "UPS", "tracking_number": "1Z42"}
    )
    # then the order is shipped, audited as an admin action by that user
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("SHIPPED", "1Z42")
    record = AuditRecord.objects.get(entity_id=order.pk, transition="ship")
    assert (record.source, record.actor, record.metadata["tracking_number"]) == (
        "ADMIN",
        users["Warehouse"],
        "1Z42",
    )


def test_transition_the_role_may_not_make_is_refused_in_the_admins_style(login, make_order):
    # given a pending order and warehouse staff, who may not record payments
    order = make_order("PENDING_PAYMENT")
    client = login("Warehouse")
    # when they open or post the pay form directly
    opened = client.get(transition_url(order, "pay"))
    posted = client.post(transition_url(order, "pay"), {"payment_reference": "x"})
    # then both are refused with the back-office's own 403 page, and nothing is written
    assert opened.status_code == posted.status_code == 403
    assert b"not allowed" in posted.content
    assert b"nav-sidebar" in posted.content or b"ArtiCurated" in posted.content
    order.refresh_from_db()
    assert order.status == "PENDING_PAYMENT"
    assert AuditRecord.objects.filter(entity_id=order.pk).count() == 1


def test_bulk_start_processing_reports_each_order(login, make_order):
    # given two paid orders and one still pending
    paid = [make_order("PAID"), make_order("PAID")]
    pending = make_order("PENDING_PAYMENT")
    client = login("Warehouse")
    # when warehouse staff start processing all three at once
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "start_processing_selected",
            "_selected_action": [o.pk for o in [*paid, pending]],
        },
        follow=True,
    )
    # then two are processed and the third is reported refused with why
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    for order in paid:
        order.refresh_from_db()
        assert order.status == "PROCESSING_IN_WAREHOUSE"
        assert f"{order.number}: processing started." in texts
    assert any(
        t.startswith(f"{pending.number}: refused") and "is pending payment now" in t for t in texts
    ), texts


def test_bulk_cancel_asks_for_a_reason_first(login, make_order):
    order = make_order("PAID")
    client = login("Support")
    url = reverse("admin:orders_order_changelist")
    selection = {"action": "cancel_selected", "_selected_action": [order.pk]}
    # when support choose the action, a reason is asked for and nothing changes yet
    response = client.post(url, selection)
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    order.refresh_from_db()
    assert order.status == "PAID"
    # when they give it, the order is cancelled with that reason
    client.post(url, {**selection, "reason": "Customer called"}, follow=True)
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("CANCELLED", "Customer called")


def test_timeline_shows_state_changes_and_address_corrections(login, make_order):
    # given a paid order whose address support corrected
    order = make_order("PAID")
    client = login("Support")
    page = client.get(change_url(order))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"shipping_city": "Cambridge", "items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 1})
    data["items-0-id"] = order.items.get().pk
    data["items-0-order"] = order.pk
    response = client.post(change_url(order), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    # when they open the order again
    timeline = client.get(change_url(order)).context["timeline"]
    # then the timeline shows, oldest first, the payment and then the correction, in words
    assert timeline[-1].what == "Details edited"
    assert timeline[-1].who == "support"
    assert "Shipping city: “London” → “Cambridge”" in timeline[-1].detail
    assert [e.what for e in timeline[:2]] == [
        "Order placed (104.00 USD)",
        "Payment recorded, reference pay_test (card)",
    ]


def test_orders_cannot_be_added_or_deleted_in_the_admin(login, make_order):
    order = make_order()
    client = login("admin")
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    assert client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def test_audit_admin_is_read_only_even_for_superusers(login, make_order):
    make_order("PAID")
    client = login("admin")
    record = AuditRecord.objects.first()
    assert client.get(reverse("admin:audit_auditrecord_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditrecord_add")).status_code == 403
    detail = client.get(reverse("admin:audit_auditrecord_change", args=[record.pk]))
    assert detail.status_code == 200
    # no save buttons (Unfold's command palette has a submit button of its own)
    assert b'name="_save"' not in detail.content
    assert b'name="_continue"' not in detail.content
    deleted = client.get(reverse("admin:audit_auditrecord_delete", args=[record.pk]))
    assert deleted.status_code == 403


def test_search_finds_orders_by_number_email_and_tracking(login, make_order):
    shipped = make_order("SHIPPED", customer={"email": "grace@example.com", "name": "Grace"})
    other = make_order("PAID")
    client = login("Support")
    url = reverse("admin:orders_order_changelist")
    for term in [shipped.number, "grace@example.com", shipped.tracking_number]:
        found = list(client.get(url, {"q": term}).context["cl"].result_list)
        assert found == [shipped], term
    assert other not in client.get(url, {"q": "grace@"}).context["cl"].result_list


def test_search_finds_orders_by_number_without_prefix_and_by_customer_name(login, make_order):
    # given a few orders, the twelfth among them
    orders = [make_order("PENDING_PAYMENT") for _ in range(12)]
    twelfth = orders[11]
    named = make_order("PAID", customer={"email": "hedy@example.com", "name": "Hedy Lamarr"})
    client = login("Support")
    url = reverse("admin:orders_order_changelist")
    for term in ["000012", "12", twelfth.number.lower(), twelfth.number[4:]]:
        found = list(client.get(url, {"q": term}).context["cl"].result_list)
        assert found == [twelfth], term
    assert list(client.get(url, {"q": "lamarr"}).context["cl"].result_list) == [named]


def test_the_order_list_shows_what_fits_at_1366_px(login, make_order):
    shipped = make_order("SHIPPED")
    page = login("Support").get(reverse("admin:orders_order_changelist"))
    headers = [str(h["text"]) for h in page.context["result_headers"][1:]]  # after the checkbox
    assert headers == ["Number", "Status", "Customer", "Total", "Carrier / tracking", "Age"]
    assert shipped.tracking_number in page.content.decode()


def test_a_missing_page_is_the_admins_own_404(login):
    response = login("Support").get("/admin/no-such-app/")
    assert response.status_code == 404
    assert b'data-error="404"' in response.content
    assert b"Back to your dashboard" in response.content


def test_a_delivered_order_offers_open_a_return_and_lists_the_customers_other_orders(
    login, make_order
):
    delivered = make_order("DELIVERED")
    other = make_order("PAID")
    client = login("Support")
    page = client.get(change_url(delivered))
    offer = page.context["return_offer"]
    assert offer["url"] == f"{reverse('admin:returns_return_add')}?order={delivered.number}"
    assert b"Open a return" in page.content
    assert [o.number for o in page.context["other_orders"]] == [other.number]
    # warehouse may not open returns: no button for them
    assert login("Warehouse").get(change_url(delivered)).context["return_offer"] is None
    # an order not delivered offers none
    assert client.get(change_url(other)).context["return_offer"] is None


def test_times_are_shown_in_the_configured_zone_with_its_name(login, make_order, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    order = make_order("PAID")
    page = login("Support").get(change_url(order)).content.decode()
    timeline = page.split('id="timeline"')[1]
    assert "Times in Asia/Tokyo" in timeline
    placed = AuditRecord.objects.filter(entity_id=order.pk).first().created_at
    from zoneinfo import ZoneInfo

    assert placed.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%d %b %Y, %H:%M") in timeline


def test_history_pages_offer_no_revert(login, make_order):
    order = make_order("PAID")
    client = login("Support")
    history = client.get(reverse("admin:orders_order_history", args=[order.pk]))
    assert history.status_code == 200
    version = order.history.first()
    page = client.get(
        reverse("admin:orders_order_simple_history", args=[order.pk, version.history_id])
    )
    assert page.status_code == 200
    assert b"Revert" not in history.content and b"revert" not in page.content.lower()
