"""Optimistic locking over HTTP (API.md "Catalogue"): `ETag: "<version>"` on reads and writes,
`If-Match` (quoted or bare) required on changes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from articurated.errors import PreconditionRequired

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    # What if_match_version reads as a version; anything else (`*`, a list, blank) names none.
    pattern=r'^(?:W/)?"?[0-9]{1,9}"?$',
    description='The `version` (ETag) you read, quoted or bare: `"4"` or `4`. Missing: 428; '
    "older than the current version: 412, and nothing is written.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The object\'s `version`, quoted: `"4"`.',
)


def if_match_version(request) -> int:
    """The version the client read, from If-Match. Missing: PRECONDITION_REQUIRED. A value
    that is no version (`*`, a list, garbage) matches none: -1, which the service refuses as
    stale (412)."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        raise PreconditionRequired(
            "Send If-Match with the version (ETag) you read; changes to catalogue objects need it."
        )
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return int(value) if value.isdigit() and len(value) < 10 else -1


def with_etag(response, version: int):
    response["ETag"] = f'"{version}"'
    return response
