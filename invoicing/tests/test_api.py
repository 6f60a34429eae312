import uuid

import pytest

from conftest import api_client_for, order_make
from invoicing.tests.conftest import ship


def invoice_url(order_id) -> str:
    return f"/api/v1/orders/{order_id}/invoice"


@pytest.mark.django_db(transaction=True)
def test_invoice_over_http_from_shipping_to_download(jobs, api):
    manager = api["Manager"]
    order = order_make("PROCESSING_IN_WAREHOUSE")

    # before the order ships: no invoice in the body, and the PDF is not ready
    assert manager.get(f"/api/v1/orders/{order.pk}").json()["invoice"] is None
    response = manager.get(invoice_url(order.pk))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "INVOICE_NOT_READY"
    assert response.json()["error"]["details"] == {"invoice_status": None}

    # when it ships over the API, the invoice is PENDING until the job ran
    response = api["Warehouse"].patch(
        f"/api/v1/orders/{order.pk}/state",
        {"new_state": "SHIPPED", "carrier": "DHL", "tracking_number": "JD0001"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["invoice"] == {
        "number": None,
        "status": "PENDING",
        "url": f"http://testserver/api/v1/orders/{order.pk}/invoice",
    }
    response = manager.get(invoice_url(order.pk), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["details"] == {"invoice_status": "PENDING"}

    # then once generated, the body shows it and the endpoint serves the PDF
    jobs.drain()
    body = manager.get(f"/api/v1/orders/{order.pk}").json()
    assert body["invoice"]["status"] == "GENERATED"
    assert body["invoice"]["number"].startswith("INV-")
    for path in (invoice_url(order.pk), invoice_url(order.pk) + "/", body["invoice"]["url"]):
        response = manager.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert body["invoice"]["number"] in response["Content-Disposition"]

    # and the job's step is in the order's history, written by the system
    history = manager.get(f"/api/v1/orders/{order.pk}/history").json()["results"]
    invoice_steps = [r for r in history if r["entity_type"] == "INVOICE"]
    assert [(r["transition"], r["actor"], r["source"]) for r in invoice_steps] == [
        ("generate", None, "JOB")
    ]


@pytest.mark.django_db(transaction=True)
def test_who_may_download_an_invoice(jobs, users, make_user):
    # given a generated invoice
    order = ship(order_make("PROCESSING_IN_WAREHOUSE"))
    jobs.drain()
    clients = {name: api_client_for(user) for name, user in users.items()}
    clients["nobody"] = api_client_for(make_user())
    clients["anonymous"] = api_client_for(None)

    # when each role asks for it
    statuses = {
        name: client.get(invoice_url(order.pk)).status_code for name, client in clients.items()
    }

    # then staff and integrators get it; others are refused with the error body
    assert statuses == {
        "Warehouse": 200,
        "Support": 200,
        "Manager": 200,
        "Integrator": 200,
        "admin": 200,
        "nobody": 403,
        "anonymous": 401,
    }
    refused = clients["nobody"].get(invoice_url(order.pk)).json()
    assert refused["error"]["code"] == "PERMISSION_DENIED"


@pytest.mark.django_db
def test_unknown_order_is_404(api):
    response = api["Integrator"].get(invoice_url(uuid.uuid4()))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_the_endpoint_is_in_the_openapi_schema(api):
    schema = api["Manager"].get("/api/v1/schema?format=json").json()
    [path] = [p for p in schema["paths"] if p.endswith("/invoice")]
    operation = schema["paths"][path]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert "409" in operation["responses"]
