"""The payment service's domain errors. They know nothing of gRPC; transport/status.py maps
each to a status code and its google.rpc details."""


class PaymentServiceError(Exception):
    reason = "PAYMENT_SERVICE_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(PaymentServiceError):
    """Bad field values: `violations` is a list of (field, description)."""

    reason = "INVALID_REQUEST"

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {text}" for field, text in violations))
        self.violations = violations


class NotFound(PaymentServiceError):
    reason = "NOT_FOUND"


class IdempotencyKeyReused(PaymentServiceError):
    reason = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(PaymentServiceError):
    reason = "IDEMPOTENCY_IN_PROGRESS"


class RefundExceedsPayment(PaymentServiceError):
    reason = "REFUND_EXCEEDS_PAYMENT"

    def __init__(self, message: str, *, amount_minor: int, refunded_minor: int) -> None:
        super().__init__(message)
        self.amount_minor = amount_minor
        self.refunded_minor = refunded_minor


class PaymentNotSucceeded(PaymentServiceError):
    reason = "PAYMENT_NOT_SUCCEEDED"


class AcquirerUnavailable(PaymentServiceError):
    """The acquirer did not take the call; nothing was paid. Retry with the same key."""

    reason = "ACQUIRER_UNAVAILABLE"


class DeadlineExceeded(PaymentServiceError):
    """The caller's deadline passed before the work committed; nothing was written."""

    reason = "DEADLINE_EXCEEDED"
