"""Requesters are contacts: the RequesterDirectory port over the contacts repository.

A requester unknown by e-mail becomes a contact (without marketing consent: asking for help is
not subscribing) and is announced like any new contact, so the other capabilities see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ecrm.cases.models import Requester
from ecrm.clock import Clock
from ecrm.contacts.directory import ContactFinder
from ecrm.contacts.ports import ContactRepository


class ContactLookup:
    """Requesters read by id (the case mailer: it never creates one)."""

    def __init__(self, contacts: ContactRepository) -> None:
        self._contacts = contacts

    def get(self, contact_id: str) -> Requester | None:
        contact = self._contacts.get(contact_id)
        if contact is None:
            return None
        # From our own store, not from a client: not judged again by today's input rules (a row
        # written before them must still reach the mailer, which makes its headers safe or fails
        # the mail with a reason).
        return Requester.model_construct(
            email=contact.email, first_name=contact.first_name, last_name=contact.last_name
        )


class ContactRequesters(ContactLookup):
    def __init__(
        self,
        contacts: ContactRepository,
        clock: Clock,
        ids: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        super().__init__(contacts)
        self._finder = ContactFinder(contacts, clock, ids)

    def find_or_create(self, requester: Requester) -> str:
        return self._finder.find_or_create(requester.email, requester.first_name, requester.last_name)
