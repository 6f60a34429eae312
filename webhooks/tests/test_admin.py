"""The back-office for webhooks: managers see every endpoint with its last status and failure
streak, send a test from its page and see the status code and time, read the delivery log and
resend from it. The managers' queue and the order timeline lines come from selectors."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import order_make
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.selectors import endpoint_failing_list
from webhooks.timeline import order_entries

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_managers_see_endpoints_test_them_and_resend_failed_deliveries(
    users, receiver, endpoint_for, jobs
):
    # given an integrator's endpoint that failed every attempt of one event
    target = receiver(status=500)
    endpoint = endpoint_for(target, events=["order.created"])
    order = order_make()
    jobs.drain()
    manager = logged_in(users["Manager"])

    # then the endpoints list shows its last status code and failure streak
    page = manager.get(reverse("admin:webhooks_endpoint_changelist"))
    assert page.status_code == 200
    assert target.url in page.text
    endpoint.refresh_from_db()
    assert endpoint.failure_streak == 4
    assert ">500<" in page.text.replace(" ", "")
    assert endpoint in endpoint_failing_list()
    # and the manager's dashboard lists it among the failing endpoints, linked to its page
    index = manager.get(reverse("admin:index")).text
    assert "Webhook endpoints failing" in index and "Failing webhooks" in index
    assert target.url in index
    assert reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]) in index

    # when the manager sends a test from the endpoint's page (it answers 500)
    change = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    assert manager.get(change).status_code == 200
    response = manager.get(
        reverse("admin:webhooks_endpoint_send_test", args=[endpoint.pk]), follow=True
    )
    assert "HTTP 500 in" in response.text and " ms." in response.text

    # when the receiver is fixed and the manager resends from the delivery log
    target.status = 200
    log = reverse("admin:webhooks_delivery_changelist")
    listed = manager.get(log, {"status__exact": "FAILED"})
    assert listed.status_code == 200 and "order.created" in listed.text
    delivery = Delivery.objects.get()
    assert (
        manager.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk])).status_code
        == 200
    )
    response = manager.post(
        log, {"action": "resend", "_selected_action": [str(delivery.pk)]}, follow=True
    )
    assert "1 deliveries queued again" in response.text
    jobs.drain()

    # then it was delivered, the endpoint is healthy and leaves the managers' queue
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert endpoint not in endpoint_failing_list()
    assert "Every endpoint is delivering." in manager.get(reverse("admin:index")).text
    # and the order's timeline has a webhook line for its event
    (entry,) = order_entries(order)
    assert entry.what == "Webhook order.created sent"
    assert "1 succeeded" in entry.detail
    order_page = manager.get(reverse("admin:orders_order_change", args=[order.pk])).text
    assert "Webhook order.created sent" in order_page


def test_staff_without_webhook_rights_do_not_see_the_pages(users):
    page = logged_in(users["Warehouse"]).get(reverse("admin:webhooks_endpoint_changelist"))
    assert page.status_code == 403


def test_an_endpoint_disabled_by_410_stays_in_the_managers_queue(receiver, endpoint_for, jobs):
    target = receiver(status=410)
    endpoint = endpoint_for(target)
    order_make()
    jobs.drain()
    assert not Endpoint.objects.get(pk=endpoint.pk).active
    assert list(endpoint_failing_list()) == [Endpoint.objects.get(pk=endpoint.pk)]
