"""Domain errors. Services raise these; one API exception handler turns them into the error body
of API.md, and the admin shows their message. Nothing else decides status codes."""

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(DomainError):
    """Bad field values; `details` maps (dotted) field names to lists of messages."""

    status_code = 400
    code = "VALIDATION_ERROR"


class PermissionDenied(DomainError):
    status_code = 403
    code = "PERMISSION_DENIED"


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"


class InvalidTransition(DomainError):
    status_code = 409
    code = "INVALID_STATE_TRANSITION"

    def __init__(
        self, *, number: str, kind: str, current: str, requested: str, allowed: list[str]
    ) -> None:
        super().__init__(
            f"Cannot move {kind} {number} from {current} to {requested}.",
            details={
                "current_state": current,
                "requested_state": requested,
                "allowed_transitions": allowed,
            },
        )


class Conflict(DomainError):
    """A 409 whose code is given by the subclass (ORDER_NOT_RETURNABLE, INVOICE_NOT_READY, …)."""

    status_code = 409


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class PreconditionRequired(DomainError):
    """A change to a versioned object without `If-Match` (API.md: 428)."""

    status_code = 428
    code = "PRECONDITION_REQUIRED"


class PreconditionFailed(DomainError):
    """The editor read an older version than the current one (API.md: 412). Carries who made
    the current version and when, for the admin's message."""

    status_code = 412
    code = "PRECONDITION_FAILED"

    def __init__(
        self, *, label: str, current_version: int, changed_by: str | None = None, changed_at=None
    ) -> None:
        super().__init__(
            f"{label} has changed since you read it (now version {current_version}).",
            details={"current_version": current_version},
        )
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
