"""Requesters are contacts: the RequesterDirectory port over the contacts repository.

A requester unknown by e-mail becomes a contact (without marketing consent: asking for help is
not subscribing) and is announced like any new contact, so the other capabilities see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ecrm.cases.models import Requester
from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import ContactRepository
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import ContactCaptured, EventPublisher

_ATTEMPTS = 3


class ContactLookup:
    """Requesters read by id (the case mailer: it never creates one)."""

    def __init__(self, contacts: ContactRepository) -> None:
        self._contacts = contacts

    def get(self, contact_id: str) -> Requester | None:
        contact = self._contacts.get(contact_id)
        if contact is None:
            return None
        return Requester(email=contact.email, first_name=contact.first_name, last_name=contact.last_name)


class ContactRequesters(ContactLookup):
    def __init__(
        self,
        contacts: ContactRepository,
        events: EventPublisher,
        clock: Clock,
        ids: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        super().__init__(contacts)
        self._events = events
        self._clock = clock
        self._ids = ids

    def find_or_create(self, requester: Requester) -> str:
        for _ in range(_ATTEMPTS):
            existing = self._contacts.find_by_email(requester.email)
            if existing is not None:
                return existing.id
            now = self._clock.now()
            contact = Contact(
                id=self._ids(),
                email=requester.email,
                first_name=requester.first_name,
                last_name=requester.last_name,
                created_at=now,
                updated_at=now,
            )
            try:
                self._contacts.create(contact, ())
            except AlreadyExists:
                continue  # the same address arrived twice at once: the other writer's contact it is
            self._events.publish([ContactCaptured(occurred_at=now, contact_id=contact.id)])
            return contact.id
        raise Conflict("requester kept changing while it was being looked up")
