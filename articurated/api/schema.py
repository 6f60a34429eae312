from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from articurated.api.serializers import ErrorSerializer
from articurated.idempotency import KEY_PATTERN

_ERROR_DESCRIPTIONS = {
    "400": "VALIDATION_ERROR or PARSE_ERROR",
    "401": "NOT_AUTHENTICATED or AUTHENTICATION_FAILED",
    "403": "PERMISSION_DENIED",
    "404": "NOT_FOUND",
    "406": "NOT_ACCEPTABLE",
    "409": "A conflict with the current state (INVALID_STATE_TRANSITION, …)",
    "413": "REQUEST_TOO_LARGE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
    "422": "IDEMPOTENCY_KEY_REUSED",
    "429": "THROTTLED",
    "500": "INTERNAL_ERROR",
    "503": "SERVICE_UNAVAILABLE (the database did not answer; retry)",
}
# DRF and Django refuse NUL in any string; say so, so that clients (and schemathesis) know.
NO_NUL = "^[^\\u0000]*$"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="1-255 printable ASCII characters; replays the first response for 24 hours.",
    pattern=KEY_PATTERN,
)


class AutoSchema(openapi.AutoSchema):
    """Documents the error body of API.md on each operation, for the statuses that operation
    can answer, next to its success response. Conflicts (409) particular to an operation are
    declared on it with extend_schema."""

    def _error_statuses(self) -> set[str]:
        view = self.view
        # Any operation: bad or empty query values (400), an unknown ?format= (404), an
        # unacceptable Accept (406), and the generic 500.
        statuses = {"400", "404", "406", "500"}
        if view.get_authenticators():
            statuses.add("401")  # a bad token is refused even where anonymous users may read
        if any(not isinstance(permission, AllowAny) for permission in view.get_permissions()):
            statuses |= {"401", "403"}
        if view.get_throttles():
            statuses.add("429")
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {"413", "415"}
        names = {getattr(p, "name", None) for p in self.get_override_parameters()}
        if IDEMPOTENCY_KEY_PARAMETER.name in names:
            statuses |= {"409", "422"}
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        statuses = self._error_statuses()
        for code, description in _ERROR_DESCRIPTIONS.items():
            if code in statuses and code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # The strict input fields (articurated.api.fields) state exactly what they accept.
        if direction == "request" and hasattr(field, "openapi_schema"):
            schema.update(field.openapi_schema())
        # spectacular leaves out the length limits of nested lists (`items`) and a list
        # field's allow_empty=False (a webhook's `events`): state them.
        lists = (serializers.ListSerializer, serializers.ListField)
        if isinstance(field, lists) and schema.get("type") == "array":
            minimum = field.min_length or (0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length:
                schema["maxItems"] = field.max_length
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # spectacular wraps a blank-allowing string with a pattern in oneOf [pattern, ""]; our
        # strict fields' patterns already accept "" when blank is allowed, and "" would then
        # match both branches, which oneOf forbids.
        blank = {"type": "string", "maxLength": 0}
        if hasattr(field, "openapi_schema") and schema.get("oneOf", [None, None])[1] == blank:
            schema.update(schema.pop("oneOf")[0])

    def _get_request_for_media_type(self, serializer, direction="request"):
        # Our PATCH endpoints are state commands (`/state`) with required fields, not partial
        # updates: document the same body as for POST instead of an all-optional "Patched" one.
        method = self.method
        try:
            if method == "PATCH":
                self.method = "POST"
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = method


def _tighten_strings(schema: dict) -> None:
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & schema.keys()):
        schema["pattern"] = NO_NUL
    for child in schema.get("properties", {}).values():
        _tighten_strings(child)
    if isinstance(schema.get("items"), dict):
        _tighten_strings(schema["items"])


def _needs_a_body(schema: dict, components: dict) -> bool:
    """Whether every body this schema admits has a required field (so no body is a 400)."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return all(_needs_a_body(variant, components) for variant in variants)
    return bool(schema.get("required"))


def postprocess_strict_inputs(result, generator, request, public):
    """Request bodies refuse unknown fields (StrictSerializer) and strings refuse NUL: make the
    document say exactly that, so it describes the API we run."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            _tighten_strings(component)
    # Paths are written without a trailing slash (API.md); both forms are served.
    result["paths"] = {
        (path.rstrip("/") or "/"): item for path, item in result.get("paths", {}).items()
    }
    components = result.get("components", {}).get("schemas", {})
    for path in result.get("paths", {}).values():
        for operation in path.values():
            # A body with required fields (a state change's `new_state`) cannot be left out:
            # spectacular marks it required only for a plain serializer, not for a oneOf.
            body = operation.get("requestBody")
            if body and not body.get("required"):
                schemas = [media.get("schema", {}) for media in body.get("content", {}).values()]
                if schemas and all(_needs_a_body(schema, components) for schema in schemas):
                    body["required"] = True
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _tighten_strings(parameter.get("schema", {}))
                    # An empty filter value is a 400 (articurated.api.filters), not ignored;
                    # only an empty search term means "no search".
                    schema = parameter.get("schema", {})
                    if schema.get("type") == "string" and parameter["name"] != "search":
                        schema.setdefault("minLength", 1)
    return result
