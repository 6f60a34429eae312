import pytest
from django.test import Client
from django.urls import reverse

from invoicing import services
from invoicing.models import Invoice, InvoiceStatus
from invoicing.tests.conftest import shipped_order


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _broken(*, invoice):
    raise RuntimeError("renderer down")


@pytest.mark.django_db(transaction=True)
def test_managers_retry_failed_invoices_from_the_admin_warehouse_only_sees_them(
    jobs, users, monkeypatch
):
    # given an invoice that FAILED
    monkeypatch.setattr(services, "invoice_render_pdf", _broken)
    order = shipped_order()
    jobs.drain()
    monkeypatch.undo()
    invoice = Invoice.objects.get(order=order)
    url = reverse("admin:invoicing_invoice_changelist")

    # then warehouse staff see it with attempts and the error, without the staff actions
    page = logged_in(users["Warehouse"]).get(url)
    assert page.status_code == 200
    assert order.number in page.text
    assert "renderer down" in page.text
    assert "Retry the selected" not in page.text

    # when a manager retries it from the list
    manager = logged_in(users["Manager"])
    assert "Regenerate the PDF" in manager.get(url).text
    response = manager.post(
        url, {"action": "retry", "_selected_action": [str(invoice.pk)]}, follow=True
    )
    assert "queued again" in response.text
    jobs.drain()

    # then it is generated, and the list links its PDF
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.GENERATED
    page = manager.get(url)
    assert f"Download {invoice.number}.pdf" in page.text
    download = manager.get(reverse("api:order-invoice", kwargs={"pk": order.pk}))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    # and a GENERATED invoice cannot be retried: the action says why
    response = manager.post(
        url, {"action": "retry", "_selected_action": [str(invoice.pk)]}, follow=True
    )
    assert f"Invoice {invoice.number} is generated now" in response.text
    assert "Regenerate the PDF" in response.text.split(f"Invoice {invoice.number} is generated")[1]
    assert "Invoice jobs" in manager.get(reverse("admin:index")).text
