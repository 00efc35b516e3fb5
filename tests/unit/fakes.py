"""In-memory stand-ins for the ports (unit tier: no network, no moto)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ecrm.contacts import feed, search
from ecrm.contacts.models import ConsentRecord, Contact, Erasure
from ecrm.contacts.search import SearchQuery
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.mail import Mail


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)

    def types(self) -> list[str]:
        return [e.detail_type for e in self.events]


class MemoryContacts:
    """`events`: where the events committed with each write go (the outbox, then the bus)."""

    def __init__(self, events: RecordingPublisher | None = None, phone_country: str | None = "49") -> None:
        self.events = events if events is not None else RecordingPublisher()
        self.phone_country = phone_country
        self.contacts: dict[str, Contact] = {}
        self.emails: dict[str, str] = {}
        self.consent: dict[str, list[ConsentRecord]] = {}
        self.mail: dict[tuple[str, str], dict[str, Any]] = {}
        self.erased: set[str] = set()
        self.erasures: dict[str, datetime] = {}
        self.writes = 0

    def get(self, contact_id: str) -> Contact | None:
        return self.contacts.get(contact_id)

    def find_by_email(self, email: str) -> Contact | None:
        cid = self.emails.get(email)
        return self.contacts.get(cid) if cid else None

    def create(self, contact: Contact, consent: Sequence[ConsentRecord], events: Sequence[DomainEvent] = ()) -> None:
        if contact.email in self.emails:
            raise AlreadyExists(contact.email)
        self.writes += 1
        self.events.publish(events)
        self.emails[contact.email] = contact.id
        self.contacts[contact.id] = contact
        self.consent[contact.id] = list(consent)

    def save(
        self,
        contact: Contact,
        before: Contact,
        added_tags: Sequence[str] = (),
        removed_tags: Sequence[str] = (),
        consent: Sequence[ConsentRecord] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        stored = self.contacts.get(contact.id)
        if stored is None or stored.version != before.version:
            raise Conflict(contact.id)
        self.writes += 1
        self.events.publish(events)
        self.contacts[contact.id] = contact
        self.consent.setdefault(contact.id, []).extend(consent)

    def list_by_tag(self, tag: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        tagged = sorted((c for c in self.contacts.values() if tag in c.tags), key=lambda c: c.created_at)
        start = int(cursor or 0)
        more = start + limit < len(tagged)
        return tagged[start : start + limit], str(start + limit) if more else None

    def search(self, query: SearchQuery, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        """As the index answers: by the first matching value, each contact once."""
        hits: list[tuple[str, Contact]] = []
        for contact in self.contacts.values():
            values = search.index_values(contact, self.phone_country)
            found = [
                v
                for slot, v in values.items()
                if search.SLOT_KIND[slot] == query.kind
                and (v == query.value if query.kind == "phone" else v.startswith(query.value))
            ]
            if found:
                hits.append((min(found) + "#" + contact.id, contact))
        ordered = [c for _, c in sorted(hits, key=lambda hit: hit[0])]
        start = int(cursor or 0)
        more = start + limit < len(ordered)
        return ordered[start : start + limit], str(start + limit) if more else None

    def changes(self, window: feed.Window, limit: int) -> list[tuple[str, Contact | Erasure]]:
        """As the feed index answers: every profile at its last change, every erasure at its time."""
        placed: list[tuple[str, Contact | Erasure]] = [
            (feed.position(c.updated_at, c.id), c) for c in self.contacts.values()
        ]
        placed += [(feed.position(at, i), Erasure(id=i, erased_at=at)) for i, at in self.erasures.items()]
        inside = sorted((p for p in placed if window.after < p[0] < window.before), key=lambda p: p[0])
        return inside[:limit]

    def consent_history(self, contact_id: str) -> list[ConsentRecord]:
        return list(self.consent.get(contact_id, []))

    def claim_mail(self, contact_id: str, key: str, now: datetime) -> bool:
        if (contact_id, key) in self.mail:
            return False
        self.mail[(contact_id, key)] = {"status": "sending"}
        return True

    def mark_mail_sent(self, contact_id: str, key: str, message_id: str, now: datetime) -> None:
        self.mail[(contact_id, key)] = {"status": "sent", "message_id": message_id}

    def mark_mail_failed(self, contact_id: str, key: str, reason: str, now: datetime) -> None:
        self.mail[(contact_id, key)] = {"status": "failed", "reason": reason}

    def release_mail(self, contact_id: str, key: str, claimed_at: datetime) -> None:
        if self.mail.get((contact_id, key), {}).get("status") == "sending":
            del self.mail[(contact_id, key)]

    def erase(self, contact: Contact, now: datetime, events: Sequence[DomainEvent] = ()) -> None:
        self.events.publish(events)
        self.erased.add(contact.id)
        self.erasures[contact.id] = now
        self.emails.pop(contact.email, None)
        self.contacts.pop(contact.id, None)
        self.consent.pop(contact.id, None)
        self.mail = {k: v for k, v in self.mail.items() if k[0] != contact.id}

    def announce(self, events: Sequence[DomainEvent]) -> None:
        self.events.publish(events)

    def is_erased(self, contact_id: str) -> bool:
        return contact_id in self.erased


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> str:
        self.sent.append(mail)
        return f"msg-{len(self.sent)}"
