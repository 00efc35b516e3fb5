"""People the other capabilities meet (case requesters, loyalty members) are contacts: found by
e-mail, or created without marketing consent and announced as ContactCaptured like any new contact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import ContactRepository
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import ContactCaptured

_ATTEMPTS = 3


class ContactFinder:
    def __init__(
        self,
        contacts: ContactRepository,
        clock: Clock,
        ids: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._contacts = contacts
        self._clock = clock
        self._ids = ids

    def find_or_create(self, email: str, first_name: str | None = None, last_name: str | None = None) -> str:
        """The id of the contact with this (normalized) address, created if there is none."""
        for _ in range(_ATTEMPTS):
            found = self._contacts.find_by_email(email)
            if found is not None:
                return found.id
            now = self._clock.now()
            contact = Contact(
                id=self._ids(),
                email=email,
                first_name=first_name,
                last_name=last_name,
                created_at=now,
                updated_at=now,
            )
            try:
                self._contacts.create(contact, (), events=[ContactCaptured(occurred_at=now, contact_id=contact.id)])
            except AlreadyExists:
                continue  # the same new address arrived twice at once: the other writer's contact it is
            return contact.id
        raise Conflict("the contact kept changing while it was being found or created")
