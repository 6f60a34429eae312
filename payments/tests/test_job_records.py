"""Issue 8: refund job records name the refund and carry its order; refund e-mails carry a
Message-ID derived from the refund, the same on a resend after a crash."""

import pytest
from django.core import mail

from audit.models import AuditRecord
from payments import services
from payments.models import Refund
from payments.tests.conftest import cancelled_paid_order


@pytest.mark.django_db(transaction=True)
def test_refund_job_records_are_found_by_refund_and_in_the_orders_history(jobs, api):
    # given a refund that was paid
    order = cancelled_paid_order()
    jobs.drain()
    refund = Refund.objects.get(order=order)

    # when
    response = api["Support"].get(
        "/api/v1/audit", {"entity_type": "REFUND", "entity_id": str(refund.pk)}
    )

    # then
    [record] = response.json()["results"]
    assert (record["entity_id"], record["transition"]) == (str(refund.pk), "succeed")
    assert record["metadata"]["order_id"] == str(order.pk)
    assert AuditRecord.objects.get(pk=record["id"]).order_id == order.pk
    history = api["Manager"].get(f"/api/v1/orders/{order.pk}/history").json()["results"]
    assert ("REFUND", "succeed") in [(r["entity_type"], r["transition"]) for r in history]


@pytest.mark.django_db(transaction=True)
def test_a_resent_refund_email_is_the_same_message(jobs, settings):
    # given a paid refund whose customer e-mail went out
    order = cancelled_paid_order()
    jobs.drain()
    refund = Refund.objects.get(order=order)
    [first] = mail.outbox

    # when it is sent again after a crash before customer_notified_at committed
    Refund.objects.filter(pk=refund.pk).update(customer_notified_at=None)
    services.refund_customer_email_send(refund_id=refund.pk)

    # then both carry the same Message-ID, derived from the refund
    [_, second] = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert str(refund.pk) in first.extra_headers["Message-ID"]
