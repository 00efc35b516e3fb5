"""Signed, expiring tokens for links in mail (consent confirmation, later unsubscribe and surveys)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from ecrm.errors import InvalidToken


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC-SHA256 over a compact JSON payload. The purpose is signed too, so a token minted for
    one use (say, confirming consent) is useless for another."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("signing key must be at least 32 bytes")
        self._key = key

    def sign(self, purpose: str, payload: dict[str, Any], expires_at: datetime) -> str:
        body = dict(payload, p=purpose, exp=int(expires_at.timestamp()))
        encoded = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        return f"{encoded}.{self._mac(encoded)}"

    def verify(self, purpose: str, token: str, now: datetime) -> dict[str, Any]:
        # Tokens are base64url: anything else is a forgery or a mangled link, and compare_digest
        # raises TypeError on non-ASCII str instead of answering False.
        if not token.isascii():
            raise InvalidToken("malformed token")
        encoded, _, mac = token.partition(".")
        if not encoded or not mac or not hmac.compare_digest(mac, self._mac(encoded)):
            raise InvalidToken("signature does not match")
        try:
            body = json.loads(_unb64(encoded))
        except ValueError as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(body, dict) or body.get("p") != purpose:
            raise InvalidToken("token is not for this purpose")
        if int(body.get("exp", 0)) < now.timestamp():
            raise InvalidToken("token has expired")
        return body

    def _mac(self, encoded: str) -> str:
        return _b64(hmac.new(self._key, encoded.encode("ascii"), hashlib.sha256).digest())
