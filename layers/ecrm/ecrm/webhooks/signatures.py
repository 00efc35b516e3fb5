"""Standard Webhooks signing (standardwebhooks.com): a message id `msg_...`, the send time in Unix
seconds, and `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` for each signing secret in use,
space-separated while a rotated secret overlaps the new one. Secrets are `whsec_<base64 of 24
random bytes>`; the HMAC key is the decoded bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
KEY_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    content = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def headers(secrets_in_use: Sequence[str], message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three headers of one attempt (the timestamp is the attempt's, signed anew each time)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_in_use),
    }
