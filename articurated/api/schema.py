from drf_spectacular import openapi

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
