"""Webhook and event requests the schemathesis contract run found answered against the schema
(demo/tests/test_contract_schemathesis.py), one test each."""

import pytest

from articurated.tests.assertions import assert_error


@pytest.fixture
def endpoint(endpoint_for, receiver):
    return endpoint_for(receiver())


@pytest.mark.django_db
def test_an_empty_created_after_on_events_is_refused(api):
    # when
    response = api["Integrator"].get("/api/v1/events?created_after=")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "created_after" in error["details"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("description", -1.27e-92), ("description", 5), ("active", "true"), ("events", [1])],
)
def test_a_webhook_change_of_the_wrong_type_is_refused(api, endpoint, field, value):
    # when
    response = api["Integrator"].patch(
        f"/api/v1/webhooks/{endpoint.pk}", {field: value}, format="json"
    )

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert any(key.startswith(field) for key in error["details"])
    endpoint.refresh_from_db()
    assert endpoint.description == "" and endpoint.active


@pytest.mark.django_db
@pytest.mark.parametrize("since", ["0001-01-01T00:13:14+00:27", "9999-12-31T23:59:59-05:00"])
def test_resend_failed_since_a_time_beyond_the_calendar_is_answered(api, endpoint, since):
    # when
    response = api["Integrator"].post(
        f"/api/v1/webhooks/{endpoint.pk}/deliveries/resend-failed", {"since": since}, format="json"
    )

    # then: the earliest (or latest) moment there is, not a 400
    assert response.status_code == 202, response.content
