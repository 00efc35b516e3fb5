"""What the contacts domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from ecrm.contacts.feed import Window
from ecrm.contacts.models import ConsentRecord, Contact, Erasure
from ecrm.contacts.search import SearchQuery
from ecrm.events import DomainEvent


class ContactRepository(Protocol):
    def get(self, contact_id: str) -> Contact | None: ...
    def find_by_email(self, email: str) -> Contact | None: ...
    def create(self, contact: Contact, consent: Sequence[ConsentRecord], events: Sequence[DomainEvent] = ()) -> None:
        """Raise AlreadyExists when the e-mail address (or id) is taken. `events` (in every write
        here) commit with the write, or neither does: the transactional outbox."""
        ...

    def save(
        self,
        contact: Contact,
        before: Contact,
        added_tags: Sequence[str] = (),
        removed_tags: Sequence[str] = (),
        consent: Sequence[ConsentRecord] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """Write `contact` if the stored one is still `before` (its version), else raise Conflict.
        The search index follows the fields that differ from `before`'s, in the same write."""
        ...

    def list_by_tag(self, tag: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]: ...
    def changes(self, window: Window, limit: int) -> list[tuple[str, Contact | Erasure]]:
        """The first `limit` changes (profiles and erasures) in `window`, in feed order, with their
        positions (ecrm.contacts.feed)."""
        ...

    def search(self, query: SearchQuery, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        """Contacts matching `query` (ecrm.contacts.search), each once, erased ones never."""
        ...

    def claim_mail(self, contact_id: str, key: str, now: datetime) -> bool:
        """Record that mail `key` is being sent; False if it was sent already."""
        ...

    def mark_mail_sent(self, contact_id: str, key: str, message_id: str, now: datetime) -> None: ...
    def mark_mail_failed(self, contact_id: str, key: str, reason: str, now: datetime) -> None: ...
    def release_mail(self, contact_id: str, key: str, claimed_at: datetime) -> None: ...
    def erase(self, contact: Contact, now: datetime, events: Sequence[DomainEvent] = ()) -> None: ...
    def announce(self, events: Sequence[DomainEvent]) -> None:
        """Commit events that go with no change."""
        ...

    def is_erased(self, contact_id: str) -> bool: ...


class TokenSigner(Protocol):
    def sign(self, purpose: str, payload: dict[str, Any], expires_at: datetime) -> str: ...
    def verify(self, purpose: str, token: str, now: datetime) -> dict[str, Any]: ...
