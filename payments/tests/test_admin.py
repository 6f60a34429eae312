import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Refund, RefundStatus
from payments.tests.conftest import cancelled_paid_order


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_managers_retry_failed_refunds_from_the_admin_support_only_sees_them(jobs, settings, users):
    # given a refund that FAILED
    order = cancelled_paid_order()
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = True
    jobs.drain()
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.FAILED
    url = reverse("admin:payments_refund_changelist")

    # then support sees it with its attempts and error, but has no retry action
    page = logged_in(users["Support"]).get(url)
    assert page.status_code == 200
    assert order.number in page.text
    assert "ACQUIRER_UNAVAILABLE" in page.text
    assert "Retry the selected" not in page.text

    # when a manager retries it from the list, with the gateway fixed
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    manager = logged_in(users["Manager"])
    assert "Retry the selected" in manager.get(url).text
    response = manager.post(
        url, {"action": "retry", "_selected_action": [str(refund.pk)]}, follow=True
    )

    # then it is queued again, and paid by the worker
    assert "queued again" in response.text
    jobs.drain()
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
    # and its page, titled by the refund, still shows the failed round and its error
    detail = manager.get(reverse("admin:payments_refund_change", args=[refund.pk])).text
    assert f"Refund of {refund.amount} {refund.currency} for {order.number}" in detail
    assert str(refund.pk) not in detail.split("<title>")[1].split("</title>")[0]
    log = detail.split('class="attempts-log')[1]
    assert "failed after 6 attempts" in log
    assert "ACQUIRER_UNAVAILABLE" in log
    assert "queued again" in log
    assert "succeeded, reference" in log
    # and "Next attempt" is shown only for refunds that will be tried again
    listing = manager.get(url).text
    assert "Next attempt" in listing
    # and the admin index shows the refunds work queue
    index = manager.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "Refunds" in index.text
