"""Who and where an action comes from; stored on every audit record."""

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    API = "API"
    ADMIN = "ADMIN"
    JOB = "JOB"
    CLI = "CLI"


@dataclass(frozen=True)
class ActionContext:
    source: Source
    ip_address: str | None = None
    request_id: str | None = None

    @classmethod
    def from_request(cls, request, *, source: Source) -> "ActionContext":
        return cls(
            source=source,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            request_id=getattr(request, "request_id", None),
        )


JOB = ActionContext(source=Source.JOB)
CLI = ActionContext(source=Source.CLI)
