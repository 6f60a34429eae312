from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from dramatiq.errors import ConnectionClosed

from articurated.context import ActionContext, Source
from articurated.errors import InvalidTransition, PermissionDenied
from articurated.models import NumberSequence
from audit.models import AuditRecord
from conftest import order_make, requires_postgres
from invoicing import services, tasks
from invoicing.models import Invoice, InvoiceStatus
from invoicing.tests.conftest import pdf_text, ship, shipped_order
from orders.models import Order

ADMIN = ActionContext(source=Source.ADMIN, ip_address="127.0.0.1", request_id="admin-test")


@pytest.mark.django_db(transaction=True)
def test_shipping_produces_one_generated_invoice_and_one_email(jobs, tmp_path):
    # given an order that ships
    order = shipped_order()
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.PENDING
    assert [m.args for m in jobs.queued("invoices")] == [(str(invoice.pk),)]

    # when the worker runs the queued jobs
    jobs.drain()

    # then the invoice is GENERATED with a real PDF showing the order and its total
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.GENERATED
    assert invoice.number.startswith("INV-")
    assert invoice.attempts == 1
    data = invoice.pdf.read()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert invoice.number in text
    assert order.number in text
    assert "104.00" in text
    assert "Ada Lovelace" in text
    # and exactly one e-mail went to the customer with the PDF attached
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert invoice.number in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content == data
    # and the job's step is in the order's timeline, written by the system
    record = AuditRecord.objects.get(order_id=order.pk, entity_type="INVOICE")
    assert (record.transition, record.previous_state, record.new_state) == (
        "generate",
        "PENDING",
        "GENERATED",
    )
    assert (record.actor_id, record.actor_type, record.source) == (None, "SYSTEM", "JOB")
    assert record.metadata["invoice_number"] == invoice.number


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_three_times_gives_one_number_and_one_email(jobs):
    # given a shipped order whose invoice message is delivered three times (at-least-once)
    order = shipped_order()
    [message] = jobs.queued("invoices")
    jobs.broker.flush_all()
    for _ in range(3):
        jobs.broker.enqueue(message)

    # when a worker with several threads processes them
    jobs.drain(threads=3)

    # then there is one invoice with one number, one e-mail and one "generate" record
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.GENERATED
    assert invoice.number.endswith("-000001")
    assert NumberSequence.objects.get(prefix="INV").last_value == 1
    assert len(mail.outbox) == 1
    assert AuditRecord.objects.filter(entity_type="INVOICE", transition="generate").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_render_that_fails_twice_is_retried_and_generated(jobs, monkeypatch):
    # given a renderer that fails on the first two attempts
    real_render = services.invoice_render_pdf
    calls = []

    def flaky_render(*, invoice):
        calls.append(invoice.number)
        if len(calls) <= 2:
            raise OSError("font cache locked")
        return real_render(invoice=invoice)

    monkeypatch.setattr(services, "invoice_render_pdf", flaky_render)
    order = shipped_order()

    # when the job runs with its retries
    jobs.drain()

    # then the third attempt generated it, with the number given on the first attempt
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.GENERATED
    assert invoice.attempts == 3
    assert invoice.last_error == ""
    assert calls == [invoice.number] * 3
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_render_that_always_fails_ends_failed_after_three_retries(jobs, monkeypatch, caplog):
    # given a renderer that always fails
    def broken_render(*, invoice):
        raise ValueError("template missing")

    monkeypatch.setattr(services, "invoice_render_pdf", broken_render)
    order = shipped_order()

    # when the job runs with its retries
    jobs.drain()

    # then after 1 attempt + 3 retries it is FAILED with the error, and nobody was e-mailed
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.FAILED
    assert invoice.attempts == 4
    assert invoice.last_error == "ValueError: template missing"
    assert not invoice.pdf
    assert mail.outbox == []
    record = AuditRecord.objects.get(order_id=order.pk, entity_type="INVOICE")
    assert (record.transition, record.new_state, record.source) == ("fail", "FAILED", "JOB")
    assert any("FAILED after 4 attempts" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_staff_retry_of_a_failed_invoice_generates_it(jobs, monkeypatch, users):
    # given an invoice that FAILED
    monkeypatch.setattr(services, "invoice_render_pdf", _always_failing)
    order = shipped_order()
    jobs.drain()
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.FAILED
    monkeypatch.undo()

    # when a warehouse user tries to retry it, then a manager does
    with pytest.raises(PermissionDenied):
        services.invoice_retry(invoice_id=invoice.pk, actor=users["Warehouse"], context=ADMIN)
    services.invoice_retry(invoice_id=invoice.pk, actor=users["Manager"], context=ADMIN)
    jobs.drain()

    # then it is GENERATED with the number it got first, and the retry is in the timeline
    retried = Invoice.objects.get(pk=invoice.pk)
    assert retried.status == InvoiceStatus.GENERATED
    assert retried.number == invoice.number
    assert retried.attempts == 1
    assert len(mail.outbox) == 1
    transitions = list(
        AuditRecord.objects.filter(order_id=order.pk, entity_type="INVOICE")
        .order_by("created_at", "id")
        .values_list("transition", "actor__username")
    )
    assert transitions == [("fail", None), ("retry", "manager"), ("generate", None)]
    # and a GENERATED invoice cannot be "retried"
    with pytest.raises(InvalidTransition):
        services.invoice_retry(invoice_id=invoice.pk, actor=users["Manager"], context=ADMIN)


@pytest.mark.django_db(transaction=True)
def test_regenerate_renders_again_with_the_same_number_and_no_new_email(jobs, users):
    # given a generated and e-mailed invoice
    order = shipped_order()
    jobs.drain()
    invoice = Invoice.objects.get(order=order)
    first_pdf = invoice.pdf.name

    # when a manager regenerates it
    services.invoice_regenerate(invoice_id=invoice.pk, actor=users["Manager"], context=ADMIN)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PENDING
    jobs.drain()

    # then a new PDF replaced the old file, same number and date, and no second e-mail
    again = Invoice.objects.get(pk=invoice.pk)
    assert again.status == InvoiceStatus.GENERATED
    assert (again.number, again.issued_at) == (invoice.number, invoice.issued_at)
    assert again.pdf.name != first_pdf
    assert not again.pdf.storage.exists(first_pdf)
    assert again.pdf.read().startswith(b"%PDF-")
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_broker_down_while_20_orders_ship_then_the_sweep_generates_each_once(
    jobs, monkeypatch, caplog
):
    # given a broker that refuses every message
    def unreachable(message, *, delay=None):
        raise ConnectionClosed(OSError("connection refused"))

    orders = [order_make("PROCESSING_IN_WAREHOUSE") for _ in range(20)]
    monkeypatch.setattr(jobs.broker, "enqueue", unreachable)

    # when 20 orders ship: every request commits
    for order in orders:
        ship(order)
    assert Order.objects.filter(status="SHIPPED").count() == 20
    assert Invoice.objects.filter(status=InvoiceStatus.PENDING).count() == 20
    assert sum("the sweep will send it again" in r.getMessage() for r in caplog.records) == 20

    # and the broker comes back: work within its grace period is not yet taken as lost
    monkeypatch.undo()
    assert services.invoice_sweep() == 0
    # then the sweep sends the overdue work again, once
    assert services.invoice_sweep(grace_seconds=0) == 20
    assert services.invoice_sweep() == 0  # just claimed: not sent again within the grace
    jobs.drain()

    # then 20 invoices, none doubled, numbers without gaps, 20 e-mails
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert Invoice.objects.filter(status=InvoiceStatus.GENERATED).count() == 20
    year = numbers[0][4:8]
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 21)]
    assert len(mail.outbox) == 20
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com"] * 20


@pytest.mark.django_db(transaction=True)
def test_the_sweep_resends_an_email_whose_message_was_lost(jobs, monkeypatch):
    # given an invoice generated while the e-mail message could not be sent
    def unreachable(*args, **kwargs):
        raise ConnectionClosed(OSError("connection refused"))

    monkeypatch.setattr(tasks.invoice_email_send_job, "send", unreachable)
    order = shipped_order()
    jobs.drain()
    assert Invoice.objects.get(order=order).status == InvoiceStatus.GENERATED
    assert mail.outbox == []
    monkeypatch.undo()

    # when the sweep runs
    assert services.invoice_sweep(grace_seconds=0) == 1
    jobs.drain()

    # then the customer got the invoice, once
    assert len(mail.outbox) == 1
    assert Invoice.objects.get(order=order).emailed_at is not None
    assert services.invoice_sweep(grace_seconds=0) == 0


@pytest.mark.django_db(transaction=True)
def test_sweep_jobs_command_runs_the_sweeps(jobs):
    # given a shipped order whose message was lost
    order = shipped_order()
    jobs.broker.flush_all()

    # when an operator runs the sweep with no grace period
    out = StringIO()
    call_command("sweep_jobs", "--grace", "0", stdout=out)
    jobs.drain()

    # then the invoice is generated
    assert "invoices_sweep: 1 sent again" in out.getvalue()
    assert Invoice.objects.get(order=order).status == InvoiceStatus.GENERATED


def _always_failing(*, invoice):
    raise RuntimeError("renderer down")


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_shipments_get_one_unbroken_invoice_sequence(jobs, monkeypatch):
    # given 100 orders ready to ship (rendering is tested above; a stub PDF keeps this about
    # numbering under concurrency, and quick)
    monkeypatch.setattr(services, "invoice_render_pdf", lambda *, invoice: b"%PDF-1.7 stub")
    orders = [order_make("PROCESSING_IN_WAREHOUSE") for _ in range(100)]

    # when they ship concurrently and the worker generates the invoices in parallel threads
    def ship_one(order):
        try:
            ship(order)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(ship_one, orders))
    jobs.drain(threads=8)

    # then the numbers form one unbroken sequence, one per order
    invoices = Invoice.objects.all()
    assert invoices.count() == 100
    assert {i.status for i in invoices} == {InvoiceStatus.GENERATED}
    numbers = sorted(i.number for i in invoices)
    year = numbers[0][4:8]
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 101)]
    assert len(mail.outbox) == 100
