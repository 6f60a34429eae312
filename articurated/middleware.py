import re
import uuid

# A client's X-Request-ID is echoed back and stored on audit rows, so keep it short and printable.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if sane, else a new UUID) and
    returns it in the X-Request-ID response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = (
            incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        )
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
