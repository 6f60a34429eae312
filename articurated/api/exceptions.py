"""The one place that turns any error raised under /api/ into the body of API.md:
{"error": {"code", "message", "details"}}."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from articurated.errors import DomainError

logger = logging.getLogger("articurated.api")

_CODES = {
    drf.ValidationError: "VALIDATION_ERROR",
    drf.ParseError: "PARSE_ERROR",
    drf.NotAuthenticated: "NOT_AUTHENTICATED",
    drf.AuthenticationFailed: "AUTHENTICATION_FAILED",
    drf.PermissionDenied: "PERMISSION_DENIED",
    drf.NotFound: "NOT_FOUND",
    drf.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    drf.NotAcceptable: "NOT_ACCEPTABLE",
    drf.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    drf.Throttled: "THROTTLED",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure → {"items.0.quantity": ["…"], "customer.email": ["…"]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if prefix and key == api_settings.NON_FIELD_ERRORS_KEY:
                # A nested object's or list's own errors ("Expected a dictionary", "This list
                # may not be empty") belong to the field holding it: "customer", not
                # "customer.non_field_errors".
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for name, messages in flatten_errors(value, path).items():
                flat.setdefault(name, []).extend(messages)
    elif isinstance(detail, list | tuple):
        messages = [str(item) for item in detail if not isinstance(item, dict | list | tuple)]
        if messages:
            flat[prefix or "non_field_errors"] = messages
        for index, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "non_field_errors"] = [str(detail)]
    return flat


def _validation_message(details: dict[str, list[str]]) -> str:
    if not details:
        return "Invalid input."
    field, messages = next(iter(details.items()))
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"Invalid input: {field}: {messages[0]}{more}"


def exception_handler(exc: Exception, context: dict) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.details)
        status = exc.status_code
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads request.body for JSON, so Django's own size check fires before our parser's.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than {limit} bytes."
        body, status = error_body("REQUEST_TOO_LARGE", message), 413
    elif isinstance(exc, Http404):
        body, status = error_body("NOT_FOUND", "Not found."), 404
    elif isinstance(exc, DjangoPermissionDenied):
        body, status = error_body("PERMISSION_DENIED", "You may not do this."), 403
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.ValidationError):
            details = flatten_errors(exc.detail)
            body = error_body("VALIDATION_ERROR", _validation_message(details), details)
        elif isinstance(exc, drf.Throttled):
            wait = int(exc.wait or 1)
            headers["Retry-After"] = str(wait)
            body = error_body(
                "THROTTLED", f"Too many requests; retry in {wait} seconds.", {"retry_after": wait}
            )
        else:
            code = next(
                (code for cls, code in _CODES.items() if isinstance(exc, cls)),
                str(exc.default_code).upper(),
            )
            body = error_body(code, str(exc.detail))
    elif isinstance(exc, OperationalError):
        # The database did not answer (connect or statement timeout, connection lost): the
        # client may retry; nothing was committed. No SQL or host in the message.
        logger.exception("Database unavailable in %s", context.get("view").__class__.__name__)
        message = "The service cannot reach its database right now; try again shortly."
        body, status = error_body("SERVICE_UNAVAILABLE", message), 503
        headers["Retry-After"] = "5"
    else:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        body, status = error_body("INTERNAL_ERROR", "An internal error occurred."), 500
    set_rollback()
    return Response(body, status=status, headers=headers)
