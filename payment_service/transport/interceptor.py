"""One server interceptor around every unary call: authentication, the request id, Django's
database connections, error → status mapping and one log line per call.

grpcio runs each call on a thread of the server's pool, and Django keeps one connection per
thread: after each call a connection that broke or outlived CONN_MAX_AGE is closed, and before
the next one's first statement the survivors are checked (from their socket:
articurated/connections.py), so a long-lived pool thread reuses a good connection, never a dead
one."""

import contextvars
import hmac
import logging
import re
import time
import uuid

import grpc
from django.conf import settings
from django.db import close_old_connections

from payment_service.errors import PaymentServiceError
from payment_service.transport.status import (
    internal_status,
    status_from_error,
    unauthenticated_status,
)

logger = logging.getLogger("payment_service.grpc")

# The authenticated caller, namespacing its idempotency keys; one token, one client for now.
call_client: contextvars.ContextVar[str] = contextvars.ContextVar("call_client", default="oms")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REQUEST_ID_KEY = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Probes and discovery need no token: orchestrators and tools call them bare.
_OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _authorised(metadata: dict[str, str]) -> bool:
    expected = f"Bearer {settings.PAYMENT_SERVICE_TOKEN}"
    return hmac.compare_digest(metadata.get("authorization", "").encode(), expected.encode())


class CallInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # unknown method (UNIMPLEMENTED) or streaming (reflection, Watch)
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        open_method = method.startswith(_OPEN_PREFIXES)
        behaviour = handler.unary_unary

        def call(request, context):
            incoming = metadata.get(REQUEST_ID_KEY, "")
            request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else str(uuid.uuid4())
            request_id_var.set(request_id)
            context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
            started = time.monotonic()
            code = grpc.StatusCode.OK
            try:
                if not open_method and not _authorised(metadata):
                    code = grpc.StatusCode.UNAUTHENTICATED
                    context.abort_with_status(unauthenticated_status())
                try:
                    return behaviour(request, context)
                except PaymentServiceError as error:
                    status = status_from_error(error)
                    code = status.code
                    context.abort_with_status(status)
                except Exception:
                    if context.code() is not None:
                        raise  # an abort of the handler's own
                    code = grpc.StatusCode.INTERNAL
                    logger.exception("grpc %s request_id=%s failed", method, request_id)
                    context.abort_with_status(internal_status())
                finally:
                    close_old_connections()  # Django's end-of-request step
            finally:
                logger.info(
                    "grpc %s code=%s ms=%.1f request_id=%s",
                    method,
                    code.name,
                    (time.monotonic() - started) * 1000,
                    request_id,
                )

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
