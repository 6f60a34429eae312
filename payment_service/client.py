"""The payment service as its clients see it: the OMS calls `payment_client_get()`, which talks
gRPC to PAYMENT_SERVICE_URL (host:port) when that is set and calls the same domain functions
in-process otherwise. Both raise the same PaymentServiceError classes and answer the same
dicts (payment_service.services.payment_view / refund_view).

Retryable failures — the caller retries with the same idempotency key — are
AcquirerUnavailable, IdempotencyInProgress, DeadlineExceeded and ServiceUnreachable."""

import threading
import uuid
from decimal import Decimal
from typing import Protocol

import grpc
from django.conf import settings

from payment_service import errors, services
from payment_service.transport.convert import payment_view_from, refund_view_from
from payment_service.transport.status import error_from_rpc
from payment_service_pb import payments_pb2 as pb
from payment_service_pb import payments_pb2_grpc

CLIENT_NAME = "oms"


class ServiceUnreachable(errors.PaymentServiceError):
    """No answer from the server (down, restarting, or the deadline passed on the way)."""

    reason = "SERVICE_UNREACHABLE"


RETRYABLE = (
    errors.AcquirerUnavailable,
    errors.IdempotencyInProgress,
    errors.DeadlineExceeded,
    ServiceUnreachable,
)


def minor_units(amount: Decimal) -> int:
    """An OMS amount (two decimal places) in minor units: Decimal("104.00") → 10400."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than two decimal places")
    return int(cents)


class PaymentClient(Protocol):
    def payment_create(
        self,
        *,
        idempotency_key: str,
        amount_minor: int,
        currency: str,
        reference: str = "",
        description: str = "",
    ) -> dict: ...

    def payment_get(self, *, payment_id: str) -> dict: ...

    def refund_create(
        self, *, idempotency_key: str, payment_id: str, amount_minor: int, reason: str = ""
    ) -> dict: ...


class InProcessClient:
    """The service's domain functions, called in this process (no network)."""

    def payment_create(
        self, *, idempotency_key, amount_minor, currency, reference="", description=""
    ):
        return services.payment_create(
            client=CLIENT_NAME,
            idempotency_key=idempotency_key,
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            description=description,
        ).answer

    def payment_get(self, *, payment_id):
        return services.payment_get(payment_id=payment_id)

    def refund_create(self, *, idempotency_key, payment_id, amount_minor, reason=""):
        return services.refund_create(
            client=CLIENT_NAME,
            idempotency_key=idempotency_key,
            payment_id=payment_id,
            amount_minor=amount_minor,
            reason=reason,
        ).answer


_channels: dict[str, grpc.Channel] = {}
_channels_lock = threading.Lock()


def _channel(target: str) -> grpc.Channel:
    # One channel per target and process: channels multiplex calls and reconnect by themselves.
    with _channels_lock:
        if target not in _channels:
            # Reconnect soon after a restart: gRPC's default backoff grows to two minutes, and
            # every retry of a job in that time would fail without trying.
            _channels[target] = grpc.insecure_channel(
                target,
                options=[
                    ("grpc.initial_reconnect_backoff_ms", 500),
                    ("grpc.max_reconnect_backoff_ms", 5000),
                ],
            )
        return _channels[target]


class GrpcClient:
    """PaymentService over gRPC, each call with a deadline, the bearer token and a request id."""

    def __init__(self, target: str, *, token: str, deadline: float) -> None:
        self.stub = payments_pb2_grpc.PaymentServiceStub(_channel(target))
        self.token = token
        self.deadline = deadline

    def _call(self, method, request, *, request_id: str | None = None):
        metadata = (
            ("authorization", f"Bearer {self.token}"),
            ("x-request-id", request_id or str(uuid.uuid4())),
        )
        try:
            return method(request, timeout=self.deadline, metadata=metadata)
        except grpc.RpcError as error:
            domain_error = error_from_rpc(error)
            if domain_error is not None:
                raise domain_error from error
            code = error.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ServiceUnreachable(
                    f"Payment service {code.name}: {error.details()}"
                ) from error
            raise errors.PaymentServiceError(
                f"Payment service answered {code.name}: {error.details()}"
            ) from error

    def payment_create(
        self, *, idempotency_key, amount_minor, currency, reference="", description=""
    ):
        request = pb.CreatePaymentRequest(
            idempotency_key=idempotency_key,
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            description=description,
        )
        return payment_view_from(self._call(self.stub.CreatePayment, request))

    def payment_get(self, *, payment_id):
        return payment_view_from(
            self._call(self.stub.GetPayment, pb.GetPaymentRequest(id=payment_id))
        )

    def refund_create(self, *, idempotency_key, payment_id, amount_minor, reason=""):
        request = pb.RefundPaymentRequest(
            idempotency_key=idempotency_key,
            payment_id=payment_id,
            amount_minor=amount_minor,
            reason=reason,
        )
        return refund_view_from(self._call(self.stub.RefundPayment, request))


def payment_client_get() -> PaymentClient:
    if settings.PAYMENT_SERVICE_URL:
        return GrpcClient(
            settings.PAYMENT_SERVICE_URL,
            token=settings.PAYMENT_SERVICE_TOKEN,
            deadline=settings.PAYMENT_SERVICE_DEADLINE_SECONDS,
        )
    return InProcessClient()
