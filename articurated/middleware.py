import io
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("articurated.api")
security_logger = logging.getLogger("django.security.DisallowedHost")

# A client's X-Request-ID is echoed back and stored on audit rows, so keep it short and printable.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if it is 1-128 characters of
    [A-Za-z0-9._:-], else a new UUID) and returns it in the X-Request-ID response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        # fullmatch: `$` would also accept a trailing newline.
        request.request_id = (
            incoming if _ACCEPTABLE_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        )
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": {}}}, status=status)


# Codes for errors that reach us as a non-JSON response (raised outside a DRF view).
_FALLBACK_CODES = {
    400: "BAD_REQUEST",
    401: "NOT_AUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "THROTTLED",
}


_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiBoundaryMiddleware:
    """What must hold for every request under /api/ before and after any view runs:

    - a Host outside ALLOWED_HOSTS is the JSON error body (Django would answer its HTML error
      page, or with DEBUG on its debug page, which shows settings);
    - a streamed body (Transfer-Encoding: chunked, no Content-Length) is counted while it is
      read: past DATA_UPLOAD_MAX_MEMORY_SIZE it is 413 REQUEST_TOO_LARGE, under it the view reads
      it as if it had come with a Content-Length (Django would read it as empty);
    - any error answered without the JSON error body (Django's own 404/500 pages, a view
      rendering HTML) is replaced by it. Outside /api/ (admin) nothing changes but the count.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        if api:
            try:
                request.get_host()
            except DisallowedHost as error:
                security_logger.error(str(error), extra={"request": request, "status_code": 400})
                return _error(400, "BAD_REQUEST", "The Host header names no host served here.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _is_streamed(request):
            try:
                body = _streamed_body_read(request, limit)
            except ValueError:
                return _refusal(api, 400, "PARSE_ERROR", "The chunked body is malformed.")
            if body is None:
                message = f"The request body is larger than {limit} bytes."
                return _refusal(api, 413, "REQUEST_TOO_LARGE", message)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        response = self.get_response(request)
        if api and response.status_code >= 400 and not _is_json(response):
            status = response.status_code
            if status >= 500:
                return _error(status, "INTERNAL_ERROR", "An internal error occurred.")
            code = _FALLBACK_CODES.get(status, "ERROR")
            error = _error(status, code, response.reason_phrase or "The request was refused.")
            # The headers that belong to the refusal (RFC 9110: a 405 lists what is allowed).
            for header in _KEPT_HEADERS:
                if header in response:
                    error[header] = response[header]
            return error
        return response


def _refusal(api: bool, status: int, code: str, message: str) -> HttpResponse:
    if api:
        return _error(status, code, message)
    return HttpResponse(message, status=status, content_type="text/plain")


def _is_json(response) -> bool:
    # Our views answer JSON (the error body, or a body of its own such as degraded health).
    return response.get("Content-Type", "").startswith("application/json")


def _is_streamed(request) -> bool:
    encoding = request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return "chunked" in encoding and not request.META.get("CONTENT_LENGTH")


def _streamed_body_read(request, limit: int) -> bytes | None:
    """The body of a chunked request, or None as soon as it passes `limit` bytes. ValueError
    when the chunks are malformed."""
    environ = request.environ
    if environ.get("wsgi.input_terminated"):
        # The server (gunicorn) decoded the chunks; read until EOF, one byte past the limit.
        body = environ["wsgi.input"].read(limit + 1)
        return None if len(body) > limit else body
    # Django's development and test servers hand the raw chunked stream to a LimitedStream of
    # length 0; decode it from the socket reader underneath.
    stream = environ["wsgi.input"]
    read = getattr(stream, "_read", None)
    readline = getattr(stream, "_readline", None)
    if read is None or readline is None:
        raise ValueError("no chunked stream to read")
    body = bytearray()
    while True:
        line = readline(64 * 1024)
        size = int(line.split(b";", 1)[0].strip(), 16)  # ValueError when malformed
        if size == 0:
            while readline(64 * 1024).strip():  # trailers up to the blank line
                pass
            return bytes(body)
        if len(body) + size > limit:
            return None
        body += read(size)
        readline(8)  # the CRLF after the chunk
