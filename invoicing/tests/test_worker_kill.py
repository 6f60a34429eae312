"""A worker killed with SIGKILL mid-job on a real RabbitMQ: the job runs again and completes
once. Worker processes share the test database, hence PostgreSQL and committed data."""

import pytest

from articurated.models import NumberSequence
from audit.models import AuditRecord
from conftest import requires_postgres, requires_rabbitmq
from invoicing.models import Invoice, InvoiceStatus
from invoicing.tests.conftest import pdf_text, shipped_order


@pytest.mark.rabbitmq
@requires_rabbitmq()
@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_invoice_job_loses_nothing_and_doubles_nothing(
    worker_kill_drill, tmp_path, jobs
):
    # given a shipped order whose invoice is PENDING
    order = shipped_order()
    invoice = Invoice.objects.get(order=order)

    # when a real worker is SIGKILLed mid-job and another worker takes over
    summary = worker_kill_drill("invoice", invoice.pk)

    # then the first attempt was cut off, the second completed it, once
    assert summary["killed_mid_job"], summary
    assert summary["completed"], (tmp_path / "workers.log").read_text()[-3000:]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.GENERATED
    assert invoice.attempts == 2
    assert NumberSequence.objects.get(prefix="INV").last_value == 1
    data = invoice.pdf.read()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert order.number in text
    assert str(order.total_amount) in text
    assert summary["emails"] == 1
    assert AuditRecord.objects.filter(entity_type="INVOICE", transition="generate").count() == 1
