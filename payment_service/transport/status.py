"""Domain errors → gRPC status codes with google.rpc details (API.md "Payment service")."""

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from payment_service import errors

DOMAIN = "payments.articurated"

_CODES: list[tuple[type[errors.PaymentServiceError], int]] = [
    (errors.InvalidRequest, code_pb2.INVALID_ARGUMENT),
    (errors.IdempotencyKeyReused, code_pb2.INVALID_ARGUMENT),
    (errors.IdempotencyInProgress, code_pb2.ABORTED),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.RefundExceedsPayment, code_pb2.FAILED_PRECONDITION),
    (errors.PaymentNotSucceeded, code_pb2.FAILED_PRECONDITION),
    (errors.AcquirerUnavailable, code_pb2.UNAVAILABLE),
    (errors.DeadlineExceeded, code_pb2.DEADLINE_EXCEEDED),
]


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_from_error(error: errors.PaymentServiceError) -> grpc.Status:
    code = next(c for kind, c in _CODES if isinstance(error, kind))
    details = []
    if isinstance(error, errors.InvalidRequest):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=field, description=text)
                    for field, text in error.violations
                ]
            )
        )
    else:
        metadata = {}
        if isinstance(error, errors.RefundExceedsPayment):
            metadata = {
                "amount_minor": str(error.amount_minor),
                "refunded_minor": str(error.refunded_minor),
            }
        details.append(
            error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=metadata)
        )
    if code in (code_pb2.UNAVAILABLE, code_pb2.ABORTED):
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1)))
    return rpc_status.to_status(
        status_pb2.Status(
            code=code, message=error.message, details=[_pack(detail) for detail in details]
        )
    )


def unauthenticated_status() -> grpc.Status:
    return rpc_status.to_status(
        status_pb2.Status(
            code=code_pb2.UNAUTHENTICATED,
            message="Send metadata 'authorization: Bearer <PAYMENT_SERVICE_TOKEN>'.",
        )
    )


def internal_status() -> grpc.Status:
    # Generic on purpose: no stack trace, SQL or settings leak to the caller.
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.INTERNAL, message="Internal error; see the server log.")
    )


def error_from_rpc(error: grpc.RpcError) -> errors.PaymentServiceError | None:
    """The client side: the domain error a status carries (its ErrorInfo reason or BadRequest),
    or None when the status carries no details (transport failures)."""
    status = rpc_status.from_call(error)
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return errors.InvalidRequest([(v.field, v.description) for v in bad.field_violations])
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.reason == errors.RefundExceedsPayment.reason:
                return errors.RefundExceedsPayment(
                    status.message,
                    amount_minor=int(info.metadata.get("amount_minor", 0)),
                    refunded_minor=int(info.metadata.get("refunded_minor", 0)),
                )
            for kind, _ in _CODES:
                if kind.reason == info.reason and kind is not errors.InvalidRequest:
                    return kind(status.message)
    return None
