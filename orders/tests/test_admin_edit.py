"""Support corrects an order in the admin: through order_update_details, with the API's rules,
audited, and never once the parcel has left or the order is cancelled."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from articurated.errors import PermissionDenied, ValidationFailed
from audit.models import AuditRecord
from conftest import TEST_CONTEXT
from orders.errors import OrderNotEditable
from orders.services import order_update_details


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def _form_data(client, order, **changes):
    page = client.get(change_url(order))
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 1})
    data["items-0-id"] = order.items.get().pk
    data["items-0-order"] = order.pk
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"shipping_country": "ZZ"}, "shipping_country", "not a two-letter ISO 3166-1"),
        ({"shipping_country": "Germany"}, "shipping_country", "Did you mean DE?"),
        ({"shipping_city": ""}, "shipping_city", "This field is required."),
        ({"shipping_postal_code": ""}, "shipping_postal_code", "This field is required."),
        ({"customer_email": "ada@"}, "customer_email", "valid e-mail"),
    ],
)
def test_support_sees_why_an_address_is_refused_and_nothing_is_saved(
    client, users, make_order, changes, field, message
):
    # given a paid order and support staff
    order = make_order("PAID")
    client.force_login(users["Support"])
    # when they save an address the API would refuse
    response = client.post(change_url(order), _form_data(client, order, **changes))
    # then the page comes back with the message on that field, and nothing changed
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    order.refresh_from_db()
    assert (order.shipping_country, order.shipping_city, order.shipping_postal_code) == (
        "GB",
        "London",
        "SW1Y 4JH",
    )
    assert not AuditRecord.objects.filter(entity_id=order.pk, transition="update").exists()


def test_the_country_input_does_not_cut_what_is_typed(client, users, make_order):
    order = make_order("PAID")
    client.force_login(users["Support"])
    page = client.get(change_url(order)).content.decode()
    country_input = page.split('name="shipping_country"')[0].rsplit("<input", 1)[1]
    assert "maxlength" not in page.split('name="shipping_country"')[1].split(">")[0]
    assert "maxlength" not in country_input


def test_a_correction_goes_through_the_service_audited_with_history(client, users, make_order):
    order = make_order("PAID")
    client.force_login(users["Support"])
    response = client.post(
        change_url(order),
        _form_data(client, order, shipping_city="Cambridge", shipping_country="gb"),
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.shipping_city, order.shipping_country) == ("Cambridge", "GB")
    record = AuditRecord.objects.get(entity_id=order.pk, transition="update")
    assert (record.actor, record.source, record.metadata) == (
        users["Support"],
        "ADMIN",
        {"fields": ["shipping_city"]},
    )
    latest = order.history.latest("history_date")
    assert (latest.history_user, latest.shipping_city) == (users["Support"], "Cambridge")


@pytest.mark.parametrize("status", ["SHIPPED", "DELIVERED", "CANCELLED"])
def test_details_are_read_only_once_shipped_delivered_or_cancelled(
    client, users, make_order, status
):
    order = make_order(status)
    client.force_login(users["Support"])
    page = client.get(change_url(order))
    # then no detail can be edited and there is nothing to save
    assert page.status_code == 200
    assert not {"shipping_city", "customer_name", "notes"} & set(
        page.context["adminform"].form.fields
    )
    assert b'name="_save"' not in page.content
    # and a forged post changes nothing
    client.post(change_url(order), {"shipping_city": "Nowhere", "customer_name": "X"})
    order.refresh_from_db()
    assert (order.shipping_city, order.customer_name) == ("London", "Ada Lovelace")


def test_the_service_refuses_frozen_orders_bad_values_and_roles(make_order, users):
    shipped = make_order("SHIPPED")
    with pytest.raises(OrderNotEditable, match="is shipped"):
        order_update_details(
            order_id=shipped.pk, actor=users["Manager"], context=TEST_CONTEXT,
            changes={"notes": "late"},
        )  # fmt: skip
    paid = make_order("PAID")
    with pytest.raises(ValidationFailed) as refused:
        order_update_details(
            order_id=paid.pk, actor=users["Support"], context=TEST_CONTEXT,
            changes={"shipping_country": "Germany", "shipping_city": " "},
        )  # fmt: skip
    assert set(refused.value.details) == {"shipping_country", "shipping_city"}
    with pytest.raises(PermissionDenied):
        order_update_details(
            order_id=paid.pk, actor=users["Warehouse"], context=TEST_CONTEXT,
            changes={"notes": "x"},
        )  # fmt: skip
    assert not AuditRecord.objects.filter(transition="update").exists()


def test_bulk_actions_are_offered_only_to_roles_that_may_take_them(client, users, make_order):
    make_order("PAID")
    url = reverse("admin:orders_order_changelist")
    offered = {}
    for role in ("Warehouse", "Support", "Manager"):
        client.force_login(users[role])
        choices = client.get(url).context["action_form"].fields["action"].choices
        offered[role] = {name for name, _ in choices if name}
    assert offered["Warehouse"] == {"start_processing_selected", "deliver_selected"}
    assert offered["Support"] == {"cancel_selected"}
    assert offered["Manager"] == {
        "start_processing_selected",
        "deliver_selected",
        "cancel_selected",
    }
    # and posting one anyway does nothing
    order = make_order("PAID")
    client.force_login(users["Support"])
    client.post(url, {"action": "start_processing_selected", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "PAID"


def test_a_stale_transition_page_says_where_the_order_is_now_and_what_may_follow(
    client, users, make_order
):
    # given an order support opened "Cancel" for, that was paid, processed and shipped since
    order = make_order("SHIPPED")
    client.force_login(users["Manager"])
    url = reverse("admin:orders_order_transition", args=[order.pk, "cancel"])
    page = client.get(url)
    text = page.content.decode()
    # then the page says it is shipped now and offers what may follow, not "SHIPPED to SHIPPED"
    assert page.status_code == 200
    assert f"{order.number} is shipped now" in text
    assert "Mark delivered" in text
    assert "SHIPPED" not in text.split('id="no-longer-allowed"')[1].split("</div>")[0]
    assert 'name="reason"' not in text
    # and a stale post is refused in words, with nothing written
    response = client.post(url, {"reason": "too late"}, follow=True)
    order.refresh_from_db()
    assert order.status == "SHIPPED"
    assert not AuditRecord.objects.filter(entity_id=order.pk, transition="cancel").exists()
    assert "is shipped now" in response.content.decode()
    assert not [m for m in get_messages(response.wsgi_request) if "SHIPPED" in str(m)]
