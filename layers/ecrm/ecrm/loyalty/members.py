"""Members are contacts. An order names its customer by contact id or by e-mail address; an
address we do not know becomes a new contact (announced as ContactCaptured, like any other)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import ContactRepository
from ecrm.errors import AlreadyExists, Conflict, InvalidInput
from ecrm.events import ContactCaptured, EventPublisher

_ATTEMPTS = 3


class ContactMembers:
    """MemberDirectory over the contacts port. A contact id is taken as given: the shop has it
    from us, and checking it would cost every accrual a read."""

    def __init__(
        self,
        contacts: ContactRepository,
        events: EventPublisher,
        clock: Clock,
        ids: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._contacts = contacts
        self._events = events
        self._clock = clock
        self._ids = ids

    def member_for(self, contact_id: str | None, email: str | None) -> str:
        if contact_id:
            return contact_id
        if not email:
            raise InvalidInput("contact_id", "email or contact_id is required")
        for _ in range(_ATTEMPTS):
            found = self._contacts.find_by_email(email)
            if found is not None:
                return found.id
            now = self._clock.now()
            contact = Contact(id=self._ids(), email=email, created_at=now, updated_at=now)
            try:
                self._contacts.create(contact, ())
            except AlreadyExists:
                continue  # a concurrent order of the same new customer created it: read it
            self._events.publish([ContactCaptured(occurred_at=now, contact_id=contact.id)])
            return contact.id
        raise Conflict("the contact kept changing while it was being created")
