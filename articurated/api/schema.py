from drf_spectacular import openapi
from rest_framework import serializers

from articurated.api.serializers import ErrorSerializer

_ERROR_DESCRIPTIONS = {
    "400": "VALIDATION_ERROR or PARSE_ERROR",
    "401": "NOT_AUTHENTICATED or AUTHENTICATION_FAILED",
    "403": "PERMISSION_DENIED",
    "404": "NOT_FOUND",
    "405": "METHOD_NOT_ALLOWED",
    "406": "NOT_ACCEPTABLE",
    "409": "A conflict with the current state (INVALID_STATE_TRANSITION, …)",
    "413": "REQUEST_TOO_LARGE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
    "422": "IDEMPOTENCY_KEY_REUSED",
    "429": "THROTTLED",
    "500": "INTERNAL_ERROR",
}
# DRF and Django refuse NUL in any string; say so, so that clients (and schemathesis) know.
NO_NUL = "^[^\\u0000]*$"


class AutoSchema(openapi.AutoSchema):
    """Documents the error body of API.md on every operation, next to its success response."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in _ERROR_DESCRIPTIONS.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # spectacular leaves out the length limits of nested lists (`items`): state them.
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            minimum = field.min_length or (0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length:
                schema["maxItems"] = field.max_length
        return schema

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
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _tighten_strings(parameter.get("schema", {}))
    return result
