"""The link-signing key, fetched from Secrets Manager on first use (not at cold start)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ecrm.signing import Signer

if TYPE_CHECKING:
    from boto3.session import Session


class SecretSigner:
    """A Signer whose key is read once, when the first token is signed or checked."""

    def __init__(self, fetch: Callable[[], str]) -> None:
        self._fetch = fetch

    @classmethod
    def from_secret(cls, session: Session, secret_id: str) -> SecretSigner:
        """The key in Secrets Manager's `secret_id`, read through `session` on first use: the
        composition root's one session (decision 93)."""

        def fetch() -> str:
            found = session.client("secretsmanager").get_secret_value(SecretId=secret_id)
            return str(found["SecretString"])

        return cls(fetch)

    @cached_property
    def _signer(self) -> Signer:
        return Signer(self._fetch().encode())

    def sign(self, purpose: str, payload: dict[str, Any], expires_at: datetime) -> str:
        return self._signer.sign(purpose, payload, expires_at)

    def verify(self, purpose: str, token: str, now: datetime) -> dict[str, Any]:
        return self._signer.verify(purpose, token, now)
