"""The webhooks and events API (API.md "Webhooks"): roles and ownership, secrets shown once,
strict input with the error body of API.md, the test action, the delivery log and resends."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import api_client_for, order_make
from webhooks.models import Delivery, DeliveryStatus, Endpoint, Event

WEBHOOK_KEYS = {
    "id", "url", "events", "description", "active", "disabled_reason", "created_at",
    "last_delivery",
}  # fmt: skip


def _register(client, url="http://127.0.0.1:9/hook", events=("order.shipped",), **extra):
    return client.post("/api/v1/webhooks", {"url": url, "events": list(events), **extra})


def test_an_integrator_registers_an_endpoint_and_sees_the_secret_only_then(api, db):
    # when
    response = _register(api["Integrator"], description="ERP", events=["order.shipped"])

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == WEBHOOK_KEYS | {"secret"}
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["events"] == ["order.shipped"]
    assert body["active"] is True and body["last_delivery"] is None
    shown = api["Integrator"].get(f"/api/v1/webhooks/{body['id']}")
    assert shown.status_code == 200
    assert set(shown.json()) == WEBHOOK_KEYS
    listed = api["Integrator"].get("/api/v1/webhooks").json()["results"]
    assert "secret" not in listed[0]


def test_integrators_see_only_their_own_endpoints_and_managers_see_all(api, users, make_user, db):
    # given two integrators with one endpoint each
    other = make_user("Integrator", username="other-integrator")
    other_api = api_client_for(other)
    mine = _register(api["Integrator"]).json()["id"]
    theirs = _register(other_api).json()["id"]

    # then each integrator lists only theirs, and cannot read or change the other's
    assert [w["id"] for w in api["Integrator"].get("/api/v1/webhooks").json()["results"]] == [mine]
    for method, path in [
        ("get", f"/api/v1/webhooks/{theirs}"),
        ("patch", f"/api/v1/webhooks/{theirs}"),
        ("delete", f"/api/v1/webhooks/{theirs}"),
        ("post", f"/api/v1/webhooks/{theirs}/rotate-secret"),
        ("post", f"/api/v1/webhooks/{theirs}/test"),
        ("get", f"/api/v1/webhooks/{theirs}/deliveries"),
    ]:
        response = getattr(api["Integrator"], method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert Endpoint.objects.get(pk=theirs).active

    # and a manager sees and manages both
    listed = {w["id"] for w in api["Manager"].get("/api/v1/webhooks").json()["results"]}
    assert listed == {mine, theirs}
    response = api["Manager"].patch(f"/api/v1/webhooks/{theirs}", {"active": False})
    assert response.status_code == 200
    assert response.json()["active"] is False


@pytest.mark.parametrize("role", ["Warehouse", "Support"])
def test_other_staff_roles_may_not_use_webhooks(api, role, db):
    for response in (api[role].get("/api/v1/webhooks"), _register(api[role])):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not Endpoint.objects.exists()


def test_anonymous_requests_are_refused(client, db):
    response = client.get("/api/v1/webhooks")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "ftp://127.0.0.1/x", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/x", "events": ["order.exploded"]}, "events.0"),
        ({"url": "http://127.0.0.1:9/x", "events": ["*", "order.paid"]}, "events"),
        ({"url": "http://127.0.0.1:9/x", "events": "order.paid"}, "events"),
        ({"url": "http://127.0.0.1:9/x", "events": ["*"], "active": "yes please"}, "active"),
        ({"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "mine"}, "secret"),
        ({"events": ["*"]}, "url"),
    ],
)
def test_bad_input_is_a_validation_error_and_writes_nothing(api, payload, field, db):
    response = api["Integrator"].post("/api/v1/webhooks", payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"], error
    assert not Endpoint.objects.exists()


def test_patch_changes_only_what_is_given_and_refuses_unknown_fields(api, db):
    created = _register(api["Integrator"], description="ERP").json()
    path = f"/api/v1/webhooks/{created['id']}"

    response = api["Integrator"].patch(path, {"events": ["*"]})
    assert response.status_code == 200
    assert response.json()["events"] == ["*"]
    assert response.json()["description"] == "ERP"

    response = api["Integrator"].patch(path, {"owner": 1})
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["details"]
    assert api["Integrator"].put(path, {}).status_code == 405


def test_rotation_returns_a_new_secret_and_the_old_one_signs_for_a_day(api, db):
    created = _register(api["Integrator"]).json()

    response = api["Integrator"].post(f"/api/v1/webhooks/{created['id']}/rotate-secret")

    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    endpoint = Endpoint.objects.get(pk=created["id"])
    assert endpoint.signing_secrets() == [new, created["secret"]]
    later = timezone.now() + timedelta(hours=24, seconds=1)
    assert endpoint.signing_secrets(now=later) == [new]


def test_delete_removes_the_endpoint(api, db):
    created = _register(api["Integrator"]).json()
    response = api["Integrator"].delete(f"/api/v1/webhooks/{created['id']}")
    assert response.status_code == 204
    assert not Endpoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_test_action_delivers_a_signed_webhook_test_now(api, receiver):
    # given
    target = receiver()
    created = _register(api["Integrator"], url=target.url).json()
    target.secrets.append(created["secret"])

    # when
    response = api["Integrator"].post(f"/api/v1/webhooks/{created['id']}/test")

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"delivered", "status_code", "duration_ms", "error"}
    assert body["delivered"] is True and body["status_code"] == 200 and body["error"] is None
    assert isinstance(body["duration_ms"], int)
    (received,) = target.received
    assert received.event["type"] == "webhook.test"
    assert received.webhook_id.startswith("evt_")


@pytest.mark.django_db(transaction=True)
def test_the_test_action_reports_a_failing_endpoint(api, receiver):
    target = receiver(status=500)
    created = _register(api["Integrator"], url=target.url).json()
    target.secrets.append(created["secret"])

    body = api["Integrator"].post(f"/api/v1/webhooks/{created['id']}/test").json()

    assert body["delivered"] is False
    assert body["status_code"] == 500
    assert body["error"] == "HTTP 500"


@pytest.mark.django_db(transaction=True)
def test_the_delivery_log_lists_attempts_newest_first_filters_and_resends(api, receiver, jobs):
    # given an endpoint that fails everything
    target = receiver(status=500)
    created = _register(api["Integrator"], url=target.url, events=["*"]).json()
    target.secrets.append(created["secret"])
    order_make("PAID")
    jobs.drain()
    path = f"/api/v1/webhooks/{created['id']}/deliveries"

    # when the log is read
    log = api["Integrator"].get(path).json()

    # then both deliveries FAILED after 4 attempts each, newest first, with the answers
    assert log["count"] == 2
    assert [d["event_type"] for d in log["results"]] == ["order.paid", "order.created"]
    first = log["results"][0]
    assert first["status"] == "FAILED" and first["attempts"] == 4
    assert [a["status_code"] for a in first["attempt_log"]] == [500] * 4
    assert first["attempt_log"][0]["response_body"] == "ok"
    assert api["Integrator"].get(path, {"status": "SUCCEEDED"}).json()["count"] == 0
    assert api["Integrator"].get(path, {"status": "FAILED"}).json()["count"] == 2
    bad = api["Integrator"].get(path, {"status": "LOST"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]

    # when the receiver is fixed and one delivery is resent
    target.status = 200
    response = api["Integrator"].post(f"{path}/{first['id']}/resend")
    assert response.status_code == 202
    jobs.drain()

    # then it arrives with the same event id
    assert Delivery.objects.get(pk=first["id"]).status == DeliveryStatus.SUCCEEDED
    assert target.received[-1].webhook_id == first["event_id"]

    # when every failed delivery since an hour ago is resent
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    response = api["Integrator"].post(f"{path}/resend-failed", {"since": since})
    assert response.status_code == 202
    assert response.json() == {"resent": 1}
    jobs.drain()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"SUCCEEDED"}
    shown = api["Integrator"].get(f"/api/v1/webhooks/{created['id']}").json()
    assert shown["last_delivery"]["status"] == "SUCCEEDED"
    assert shown["last_delivery"]["status_code"] == 200


def test_events_are_listed_for_reconciliation_with_filters(api, db):
    # given
    order = order_make("PAID")
    old = Event.objects.create(type="order.created", data={}, order_id=order.pk)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    # when
    listed = api["Integrator"].get("/api/v1/events").json()

    # then the last 30 days, newest first
    assert [e["type"] for e in listed["results"]] == ["order.paid", "order.created"]
    paid = listed["results"][0]
    assert set(paid) == {"id", "type", "created_at", "data"}
    assert paid["data"]["status"] == "PAID"
    assert api["Manager"].get("/api/v1/events", {"type": "order.paid"}).json()["count"] == 1
    future = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api["Manager"].get("/api/v1/events", {"created_after": future}).json()["count"] == 0
    assert api["Manager"].get("/api/v1/events", {"type": "nope"}).status_code == 400
    one = api["Integrator"].get(f"/api/v1/events/{paid['id']}")
    assert one.status_code == 200 and one.json() == paid
    assert api["Integrator"].get(f"/api/v1/events/{old.pk}").status_code == 404
    assert api["Warehouse"].get("/api/v1/events").status_code == 403


def test_old_events_are_pruned(db):
    from webhooks.services import event_prune

    order = order_make()
    Event.objects.filter(order_id=order.pk).update(created_at=timezone.now() - timedelta(days=31))
    order_make()

    assert event_prune() == 1
    assert Event.objects.count() == 1


def test_the_schema_documents_webhooks_and_the_event_types(client, db):
    schema = client.get("/api/v1/schema", {"format": "json"}).json()
    paths = schema["paths"]
    assert {
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
        "/api/v1/events",
        "/api/v1/events/{id}",
    } <= set(paths)
    assert set(paths["/api/v1/webhooks/{id}"]) >= {"get", "patch", "delete"}
    assert "put" not in paths["/api/v1/webhooks/{id}"]
    types = schema["components"]["schemas"]["WebhookEventTypeEnum"]["enum"]
    assert {"order.created", "order.shipped", "return.approved", "invoice.generated"} <= set(types)
    assert {"refund.succeeded", "refund.failed"} <= set(types)


NEW_TYPES = {
    "product.created", "product.updated", "product.deleted", "product.restored",
    "products.bulk_deleted", "category.created", "stock.low", "import.queued",
    "import.completed", "import.failed", "import.cancelled",
}  # fmt: skip


def test_catalogue_stock_and_import_events_are_subscribable_documented_and_filterable(
    api, client, db
):
    # an integrator subscribes to them by name
    response = _register(api["Integrator"], events=sorted(NEW_TYPES))
    assert response.status_code == 201, response.content
    assert set(response.json()["events"]) == NEW_TYPES
    # they are in the OpenAPI enums of event types and subscriptions
    schemas = client.get("/api/v1/schema", {"format": "json"}).json()["components"]["schemas"]
    assert NEW_TYPES <= set(schemas["WebhookEventTypeEnum"]["enum"])
    assert NEW_TYPES <= set(schemas["WebhookSubscriptionEnum"]["enum"])
    # and GET /events filters by them
    Event.objects.create(type="stock.low", data={"sku": "LOW-1"})
    listed = api["Integrator"].get("/api/v1/events", {"type": "stock.low"}).json()
    assert [e["data"] for e in listed["results"]] == [{"sku": "LOW-1"}]
    assert (
        api["Integrator"].get("/api/v1/events", {"type": "import.completed"}).json()["count"] == 0
    )
