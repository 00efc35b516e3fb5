"""Outgoing mail, shared by every capability that writes to people (consent, case notices, campaigns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    def send(self, mail: Mail) -> str:
        """Send and return the provider's message id."""
        ...
