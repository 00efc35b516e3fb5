"""The link-signing key, fetched from Secrets Manager on first use (not at cold start)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

from ecrm.signing import Signer


class SecretSigner:
    """A Signer whose key is read once, when the first token is signed or checked."""

    def __init__(self, fetch: Callable[[], str]) -> None:
        self._fetch = fetch

    @cached_property
    def _signer(self) -> Signer:
        return Signer(self._fetch().encode())

    def sign(self, purpose: str, payload: dict[str, Any], expires_at: datetime) -> str:
        return self._signer.sign(purpose, payload, expires_at)

    def verify(self, purpose: str, token: str, now: datetime) -> dict[str, Any]:
        return self._signer.verify(purpose, token, now)
