"""Standard Webhooks headers and signatures (https://www.standardwebhooks.com/), made with the
`standardwebhooks` library so receivers verifying with it (or any port of it) agree with us."""

import base64
import json
import secrets
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def secret_generate() -> str:
    """`whsec_` + base64 of 32 random bytes (API.md)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body_encode(payload: dict) -> bytes:
    """The exact bytes sent and signed (compact JSON, UTF-8)."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def headers_sign(
    *, message_id: str, body: bytes, secrets_: list[str], now: datetime | None = None
) -> dict:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,…` per signing key,
    space-separated), plus the content type."""
    timestamp = (now or datetime.now(UTC)).replace(microsecond=0)
    text = body.decode()
    signatures = [Webhook(secret).sign(message_id, timestamp, text) for secret in secrets_]
    return {
        "Content-Type": "application/json",
        "User-Agent": "ArtiCurated-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
