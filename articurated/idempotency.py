"""Idempotency-Key handling for POST endpoints that create things (API.md, "Idempotency").

The key is claimed in its own committed transaction so that a concurrent duplicate sees it at
once; the response is stored in the same transaction as the creation, so the record of "done"
and the thing done commit together. A failed request releases its claim: nothing is written.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from articurated.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from articurated.models import IdempotencyKey

HEADER = "Idempotency-Key"
# 1-255 printable ASCII characters without outer spaces (servers strip those from header
# values); the OpenAPI document states the same pattern (articurated.api.schema).
KEY_PATTERN = "^[!-~](?:[ -~]{0,253}[!-~])?$"
_KEY = re.compile(KEY_PATTERN)
# A claim this old whose request never finished belongs to a process that died.
ABANDONED_AFTER = timedelta(minutes=5)
_POLL_SECONDS = 0.05


def _request_hash(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim_or_existing(*, user, scope: str, key: str, request_hash: str):
    """Returns (claim, None) when this request owns the key, else (None, existing row)."""
    while True:
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user, scope=scope, key=key, request_hash=request_hash
                ), None
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
            if existing is None:
                continue  # released between our insert and our read; try again
            now = timezone.now()
            expired = existing.created_at < now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
            abandoned = (
                existing.state == IdempotencyKey.State.IN_PROGRESS
                and existing.created_at < now - ABANDONED_AFTER
            )
            if expired or abandoned:
                IdempotencyKey.objects.filter(
                    pk=existing.pk, created_at=existing.created_at
                ).delete()
                continue
            return None, existing


def _wait_for_completion(row: IdempotencyKey) -> IdempotencyKey | None:
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = IdempotencyKey.objects.filter(pk=row.pk).first()
        if current is None or current.state == IdempotencyKey.State.COMPLETED:
            return current
        time.sleep(_POLL_SECONDS)
    return None


def _replay(row: IdempotencyKey) -> Response:
    return Response(
        row.response_body, status=row.response_status, headers={"Idempotent-Replayed": "true"}
    )


def idempotent_response(
    request, *, scope: str, perform: Callable[[], tuple[int, dict]]
) -> Response:
    """Runs `perform` (which returns status and body) at most once per user, scope and key."""
    key = request.headers.get(HEADER)
    if key is None:
        # One transaction for the creation and its response body: if building the response
        # fails, the client gets a 500 and nothing was created.
        with transaction.atomic():
            status, body = perform()
        return Response(body, status=status)
    if not _KEY.fullmatch(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            details={HEADER: ["Must be 1 to 255 printable ASCII characters, no outer spaces."]},
        )

    request_hash = _request_hash(request.data)
    while True:
        claim, existing = _claim_or_existing(
            user=request.user, scope=scope, key=key, request_hash=request_hash
        )
        if claim is not None:
            break
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request body.",
                details={"idempotency_key": key},
            )
        if existing.state == IdempotencyKey.State.COMPLETED:
            return _replay(existing)
        finished = _wait_for_completion(existing)
        if finished is None and IdempotencyKey.objects.filter(pk=existing.pk).exists():
            raise IdempotencyInProgress(
                "A request with this Idempotency-Key is still being processed.",
                details={"idempotency_key": key},
            )
        if finished is not None:
            return _replay(finished)
        # The first request failed and released the key: this one may now try.

    try:
        with transaction.atomic():
            status, body = perform()
            stored = json.loads(JSONRenderer().render(body))
            IdempotencyKey.objects.filter(pk=claim.pk).update(
                state=IdempotencyKey.State.COMPLETED, response_status=status, response_body=stored
            )
    except BaseException:
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
        raise
    return Response(stored, status=status)
