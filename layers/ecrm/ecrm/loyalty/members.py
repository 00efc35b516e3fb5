"""Members are contacts. An order names its customer by contact id or by e-mail address; an
address we do not know becomes a new contact (announced as ContactCaptured, like any other).

Addresses resolved once are remembered per warm container for `ADDRESS_TTL` (at most
`ADDRESS_CACHE` of them), so a customer's next orders cost no contacts reads. The price: for that
long after a contact is erased, an order by its old address still accrues to the erased id (ids and
numbers only) instead of creating a new contact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from ecrm.clock import Clock
from ecrm.contacts.directory import ContactFinder
from ecrm.contacts.ports import ContactRepository
from ecrm.errors import InvalidInput

ADDRESS_TTL = timedelta(minutes=5)
ADDRESS_CACHE = 10_000


class ContactMembers:
    """MemberDirectory over the contacts port. A contact id is taken as given: the shop has it
    from us, and checking it would cost every accrual a read."""

    def __init__(
        self,
        contacts: ContactRepository,
        clock: Clock,
        ids: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._finder = ContactFinder(contacts, clock, ids)
        self._clock = clock
        self._known: dict[str, tuple[str, datetime]] = {}  # address -> (contact id, resolved at)

    def member_for(self, contact_id: str | None, email: str | None) -> str:
        if contact_id:
            return contact_id
        if not email:
            raise InvalidInput("contact_id", "email or contact_id is required")
        known = self._known.get(email)
        if known is not None and self._clock.now() < known[1] + ADDRESS_TTL:
            return known[0]
        member_id = self._finder.find_or_create(email)
        self._known.pop(email, None)
        if len(self._known) >= ADDRESS_CACHE:
            del self._known[next(iter(self._known))]  # the oldest resolved
        self._known[email] = (member_id, self._clock.now())
        return member_id
