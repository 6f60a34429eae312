"""Issue 8: a job's audit records name the invoice (entity_id) and carry its order, so the audit
list finds them by invoice and the order's history still shows them; the invoice e-mail carries
a Message-ID derived from the invoice, the same on a resend after a crash."""

import uuid

import pytest
from django.core import mail
from django.db import transaction

from articurated.context import JOB
from audit.models import AuditRecord
from audit.services import audit_record_create_rollback_unsafe
from invoicing import services
from invoicing.models import Invoice
from invoicing.tests.conftest import shipped_order


@pytest.mark.django_db(transaction=True)
def test_invoice_job_records_are_found_by_invoice_and_in_the_orders_history(jobs, api):
    # given a shipped order whose invoice was generated
    order = shipped_order()
    jobs.drain()
    invoice = Invoice.objects.get(order=order)

    # when support asks the audit list for the invoice's records
    response = api["Support"].get(
        "/api/v1/audit", {"entity_type": "INVOICE", "entity_id": str(invoice.pk)}
    )

    # then the generate step is there, named after the invoice and carrying its order
    assert response.status_code == 200
    [record] = response.json()["results"]
    assert (record["entity_id"], record["entity_number"]) == (str(invoice.pk), invoice.number)
    assert (record["transition"], record["new_state"]) == ("generate", "GENERATED")
    assert record["metadata"]["order_id"] == str(order.pk)
    assert record["metadata"]["order_number"] == order.number
    assert AuditRecord.objects.get(pk=record["id"]).order_id == order.pk
    # and the order's history still lists it after the order's own records
    history = api["Manager"].get(f"/api/v1/orders/{order.pk}/history").json()["results"]
    assert [(r["entity_type"], r["transition"]) for r in history][-2:] == [
        ("ORDER", "ship"),
        ("INVOICE", "generate"),
    ]


@pytest.mark.django_db
def test_records_written_before_the_change_stay_in_the_orders_history(api, make_order):
    # given an invoice record as jobs wrote them before: keyed by the order's id
    order = make_order("SHIPPED")
    with transaction.atomic():
        old = audit_record_create_rollback_unsafe(
            entity_type="INVOICE",
            entity_id=order.pk,
            entity_number=order.number,
            transition="generate",
            previous_state="PENDING",
            new_state="GENERATED",
            actor=None,
            context=JOB,
        )

    # when
    history = api["Manager"].get(f"/api/v1/orders/{order.pk}/history").json()["results"]

    # then it is shown as written
    assert str(old.pk) in [r["id"] for r in history]
    assert AuditRecord.objects.get(pk=old.pk).entity_id == order.pk


@pytest.mark.django_db(transaction=True)
def test_a_resent_invoice_email_is_the_same_message(jobs):
    # given a generated invoice whose e-mail went out
    order = shipped_order()
    jobs.drain()
    invoice = Invoice.objects.get(order=order)
    [first] = mail.outbox

    # when the worker died after the mail server accepted it, before emailed_at committed,
    # and the sweep sends it again
    Invoice.objects.filter(pk=invoice.pk).update(emailed_at=None)
    services.invoice_email_send(invoice_id=invoice.pk)

    # then the second message has the same Message-ID, so receiving servers drop it
    [_, second] = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert str(invoice.pk) in first.extra_headers["Message-ID"]
    assert first.message()["Message-ID"] == first.extra_headers["Message-ID"]
    # and another invoice's message has its own
    other = shipped_order()
    jobs.drain()
    assert mail.outbox[-1].extra_headers["Message-ID"] != first.extra_headers["Message-ID"]
    assert uuid.UUID(str(Invoice.objects.get(order=other).pk))
