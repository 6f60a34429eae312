"""The OpenAPI document is exact (issue 8, scope 2): it says what the server accepts and
answers, operation by operation, and drf-spectacular validates it without warnings."""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from articurated.api.fields import EMAIL_PATTERN, MONEY_PATTERN, text_pattern


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _request_schema(schema, name):
    return schema["components"]["schemas"][name]


def test_spectacular_validates_the_schema_without_warnings(tmp_path):
    # when / then: --fail-on-warn turns any warning into an error
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


@pytest.mark.parametrize("value", ["", "-", "-1.00", "1e2", "49.5.0", "1000000.01", "01.00", " 1"])
def test_the_money_pattern_refuses_what_the_server_refuses(schema, value):
    # given
    pattern = _request_schema(schema, "LineItemInputRequest")["properties"]["unit_price"]["pattern"]

    # then
    assert pattern == MONEY_PATTERN
    assert not re.fullmatch(pattern, value)


@pytest.mark.parametrize("value", ["0", "0.5", "49.50", "999999.99", "1000000", "1000000.00"])
def test_the_money_pattern_accepts_what_the_server_accepts(value):
    assert re.search(MONEY_PATTERN, value)


def test_required_trimmed_strings_have_min_length_and_refuse_blanks(schema):
    # given
    name = _request_schema(schema, "CustomerRequest")["properties"]["name"]

    # then
    assert name["minLength"] == 1
    assert not re.search(name["pattern"], "   ")
    assert not re.search(name["pattern"], "Ada\x01")
    assert re.search(name["pattern"], " Ada ")
    assert _request_schema(schema, "CustomerRequest")["properties"]["email"]["pattern"] == (
        EMAIL_PATTERN
    )


def test_multiline_text_allows_newlines_but_not_other_controls(schema):
    notes = _request_schema(schema, "OrderCreateInputRequest")["properties"]["notes"]
    assert notes["pattern"] == text_pattern(multiline=True, allow_blank=True)
    assert re.search(notes["pattern"], "a\nb")
    assert not re.search(notes["pattern"], "a\x1bb")


def _operation(schema, path, method):
    return schema["paths"][path][method]


def test_both_creates_document_the_same_idempotency_key_pattern(schema):
    # given
    def header(path):
        parameters = _operation(schema, path, "post")["parameters"]
        return next(p for p in parameters if p["name"] == "Idempotency-Key")

    # then
    assert header("/api/v1/orders")["schema"] == header("/api/v1/returns")["schema"]
    assert header("/api/v1/returns")["schema"]["pattern"]


@pytest.mark.parametrize(
    ("path", "method", "present", "absent"),
    [
        ("/api/v1/health", "get", {"200", "503"}, {"401", "403", "409", "413", "415", "422"}),
        ("/api/v1/auth/token", "post", {"200", "400", "401", "413", "415", "429"}, {"409", "422"}),
        ("/api/v1/orders", "get", {"200", "400", "401", "403", "429"}, {"409", "413", "415"}),
        ("/api/v1/orders", "post", {"201", "400", "401", "403", "409", "413", "415", "422"}, set()),
        ("/api/v1/orders/{id}/state", "patch", {"200", "404", "409", "413"}, {"422"}),
        ("/api/v1/orders/{id}/invoice", "get", {"200", "404", "409"}, {"413", "415", "422"}),
        ("/api/v1/returns", "post", {"201", "409", "422"}, set()),
        ("/api/v1/audit", "get", {"200", "400", "403"}, {"409", "413", "415", "422"}),
    ],
)
def test_each_operation_lists_the_statuses_it_can_answer(schema, path, method, present, absent):
    # when
    statuses = set(_operation(schema, path, method)["responses"])

    # then
    assert present <= statuses, present - statuses
    assert not absent & statuses, absent & statuses


def test_a_state_change_documents_what_each_target_requires(schema):
    # given
    components = schema["components"]["schemas"]

    def deref(node):
        return components[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node

    body = _operation(schema, "/api/v1/orders/{id}/state", "patch")["requestBody"]
    variants = deref(body["content"]["application/json"]["schema"])["oneOf"]
    by_state = {}
    for variant in map(deref, variants):
        for state in deref(variant["properties"]["new_state"])["enum"]:
            by_state[state] = variant

    # then
    assert set(by_state["PAID"]["required"]) == {"new_state", "payment_reference"}
    assert set(by_state["SHIPPED"]["required"]) == {"new_state", "carrier", "tracking_number"}
    assert set(by_state["CANCELLED"]["required"]) == {"new_state", "reason"}
    assert by_state["CANCELLED"]["properties"]["reason"]["minLength"] == 1
    assert set(by_state["DELIVERED"]["required"]) == {"new_state"}


def test_empty_filter_values_are_outside_the_schema(schema):
    parameters = {p["name"]: p for p in _operation(schema, "/api/v1/orders", "get")["parameters"]}
    assert parameters["created_after"]["schema"]["minLength"] == 1
    assert parameters["customer_email"]["schema"]["minLength"] == 1
