"""What the schemathesis contract run (demo/tests/test_contract_schemathesis.py) found, one test
per finding, each reproducing the request it reported: the schema and the server agree."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from articurated.roles import MANAGER
from articurated.tests.assertions import assert_error


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize("path", ["/api/v1/orders/{id}/state", "/api/v1/returns/{id}/state"])
@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_state_change_documents_its_body_as_required(schema, path, method):
    # then: without a body the server answers 400 new_state required; the schema says so
    assert schema["paths"][path][method]["requestBody"]["required"] is True


MALFORMED_IDS = [
    "DBD8f76a800Dc344C7-dACEfa-C6125Dd",  # 32-36 hex digits and dashes, but no UUID
    "B6C550353D1B2B31f816de7D6a5-F5dAe6C",
    "------------------------------------",
]


@pytest.mark.django_db
@pytest.mark.parametrize("malformed", MALFORMED_IDS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/imports/{}"),
        ("get", "/api/v1/imports/{}/errors"),
        ("get", "/api/v1/imports/{}/events"),
        ("post", "/api/v1/imports/{}/cancel"),
        ("get", "/api/v1/orders/{}"),
        ("post", "/api/v1/orders/{}/state"),
        ("get", "/api/v1/returns/{}"),
        ("get", "/api/v1/skus/{}"),
        ("get", "/api/v1/webhooks/{}"),
    ],
)
def test_a_malformed_id_is_not_found_never_a_server_error(api, malformed, method, path):
    # when
    response = getattr(api[MANAGER], method)(path.format(malformed))

    # then
    assert_error(response, 404, "NOT_FOUND")


def test_path_ids_are_documented_as_uuids(schema):
    # given
    patterns = {
        (path, parameter["name"]): parameter["schema"]["pattern"]
        for path, item in schema["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and not path.startswith("/api/v1/events/")  # evt_…
    }

    # then
    assert patterns
    for pattern in patterns.values():
        assert re.search(pattern, "5fb1ab1c-adbb-8082-ce4c-f9aadd9e8cfa")
        for malformed in MALFORMED_IDS:
            assert not re.search(pattern, malformed)


@pytest.mark.django_db
def test_every_event_listed_is_of_a_documented_type(api, schema):
    # given: a catalogue change, audited and sent as an event
    created = api[MANAGER].post("/api/v1/categories", {"name": "Vases"}, format="json")
    assert created.status_code == 201, created.content

    # when
    events = api[MANAGER].get("/api/v1/events").json()["results"]

    # then: it is listed, under a type the schema documents (and so one can subscribe to)
    documented = set(schema["components"]["schemas"]["WebhookEventTypeEnum"]["enum"])
    assert "category.created" in {event["type"] for event in events}
    assert {event["type"] for event in events} <= documented


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/skus"])
def test_the_active_filter_is_documented_as_the_words_it_takes(schema, api, path):
    # given
    parameters = schema["paths"][path]["get"]["parameters"]
    active = next(parameter for parameter in parameters if parameter["name"] == "active")

    # then: a boolean typed schema let clients send 1, 0 or 2 (refused)
    assert active["schema"]["type"] == "string"
    for value in active["schema"]["enum"]:
        assert api[MANAGER].get(path, {"active": value}).status_code == 200


@pytest.mark.parametrize("name", ["WebhookCreateInputRequest", "WebhookUpdateInputRequest"])
def test_a_webhook_documents_that_it_needs_at_least_one_event(schema, name):
    events = schema["components"]["schemas"][name]["properties"]["events"]
    assert events["minItems"] == 1


@pytest.mark.django_db
def test_a_webhook_without_events_is_refused(api):
    body = {"url": "https://hooks.example.com/oms", "events": []}
    response = api[MANAGER].post("/api/v1/webhooks", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["errors", "events"])
def test_a_method_not_allowed_on_a_non_json_action_lists_the_allowed_ones(api, action):
    # when: these actions render CSV or events, so the error body is made at the boundary
    path = f"/api/v1/imports/00000000-0000-0000-0000-000000000000/{action}"
    response = api[MANAGER].generic("TRACE", path)

    # then
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_if_match_is_documented_as_a_version(schema):
    # given
    parameters = schema["paths"]["/api/v1/skus/{id}"]["patch"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "If-Match")["schema"]["pattern"]

    # then: what the server reads as a version matches; blank (428) and `*` (412) do not
    for version in ['"4"', "4", 'W/"4"']:
        assert re.search(pattern, version)
    for other in ["", "*", '"4", "5"', "four"]:
        assert not re.search(pattern, other)


@pytest.mark.parametrize(
    ("component", "field", "valid", "invalid"),
    [
        ("AddressInputRequest", "country", ["GB", "gb", "De"], ["00", "ZZ", " GB", "G"]),
        ("OrderCreateInputRequest", "currency", ["USD", "eur"], ["000", "ZZZ", " USD"]),
        ("SkuUpdateInputRequest", "currency", ["USD", "gbp"], ["000", "XYZ1"]),
    ],
)
def test_iso_codes_are_documented_as_the_codes_the_server_takes(
    schema, component, field, valid, invalid
):
    # given: "00" and "000" matched the schema and were refused as no ISO code
    pattern = schema["components"]["schemas"][component]["properties"][field]["pattern"]

    # then
    assert all(re.search(pattern, value) for value in valid)
    assert not any(re.search(pattern, value) for value in invalid)


@pytest.mark.django_db
def test_a_country_with_spaces_is_refused_as_the_schema_says(api):
    from conftest import ORDER_PAYLOAD

    body = {**ORDER_PAYLOAD, "shipping_address": {**ORDER_PAYLOAD["shipping_address"]}}
    body["shipping_address"]["country"] = " GB"
    response = api[MANAGER].post("/api/v1/orders", body, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "shipping_address.country" in error["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("code", [0, 123])
def test_a_sku_code_that_is_a_json_number_is_refused(api, code):
    # given
    category = api[MANAGER].post("/api/v1/categories", {"name": "Jugs"}, format="json").json()
    body = {"name": "Jug", "category_id": category["id"], "skus": [{"sku": code, "price": "1.00"}]}

    # when
    response = api[MANAGER].post("/api/v1/products", body, format="json")

    # then: refused, not stored as "0"
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "skus.0.sku" in error["details"]
    assert api[MANAGER].get("/api/v1/skus", {"sku": str(code)}).json()["count"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("description", 0), ("name", 5), ("parent_id", 1)])
def test_a_category_field_of_the_wrong_type_is_refused(api, field, value):
    # given
    body = {"name": "Vases", field: value}

    # when
    response = api[MANAGER].post("/api/v1/categories", body, format="json")

    # then: refused, not stored as "0"
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in error["details"]


@pytest.mark.django_db
def test_a_product_description_that_is_a_number_is_refused(api):
    # given
    category = api[MANAGER].post("/api/v1/categories", {"name": "Jugs"}, format="json").json()
    body = {
        "name": "Jug",
        "description": 0,
        "category_id": category["id"],
        "skus": [{"sku": "JUG-1", "price": "1.00"}],
    }

    # when
    response = api[MANAGER].post("/api/v1/products", body, format="json")

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "description" in error["details"]
