"""Keeping the segment index current: each contact change re-projects its membership.

Fed by the contact events (ContactCaptured, ContactUpdated, ConsentConfirmed, ContactErased), the
loyalty tier (TierChanged) and mail activity (opens, clicks). The event says *that* a contact
changed; the projection reads the contact as it is now, so events arriving out of order or twice
converge on the same index items. Two writers for one contact meet at the snapshot's version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ecrm.campaigns.ports import ContactReader, MembershipStore
from ecrm.campaigns.segments import index_keys, member_from_contact
from ecrm.errors import Conflict, NotFound

_ATTEMPTS = 3


class MembershipService:
    def __init__(self, contacts: ContactReader, store: MembershipStore) -> None:
        self._contacts = contacts
        self._store = store

    def refresh(self, contact_id: str, activity: datetime | None = None) -> frozenset[str]:
        """Re-project the contact (after a contact event, or an open or click at `activity`, which
        can only move last activity forward). Returns the index keys it now has."""
        return self._retry(contact_id, lambda previous: previous, activity)

    def set_tier(self, contact_id: str, tier: str | None) -> frozenset[str]:
        return self._retry(contact_id, lambda _: tier, None)

    def erase(self, contact_id: str) -> None:
        self._store.drop(contact_id)

    def _retry(
        self, contact_id: str, tier: Callable[[str | None], str | None], activity: datetime | None
    ) -> frozenset[str]:
        for _ in range(_ATTEMPTS):
            try:
                return self._project(contact_id, tier, activity)
            except Conflict:
                continue  # another event for this contact wrote first: re-read and re-project
        raise Conflict(f"membership of contact {contact_id} kept changing")

    def _project(
        self, contact_id: str, tier: Callable[[str | None], str | None], activity: datetime | None
    ) -> frozenset[str]:
        current = self._store.load(contact_id)
        contact = self._contacts.get(contact_id)
        if contact is None:
            self._store.drop(contact_id)
            return frozenset()
        previous = current.member if current else None
        times = [t for t in (activity, previous.last_activity if previous else None) if t is not None]
        member = member_from_contact(
            contact, tier=tier(previous.tier if previous else None), activity=max(times) if times else None
        )
        keys = index_keys(member)
        if current is not None and current.member == member and current.keys == keys:
            return keys
        removed = current.keys - keys if current else frozenset()
        try:
            self._store.store(member, keys, removed, current.version if current else 0)
        except NotFound:
            self._store.drop(contact_id)  # erased while we were projecting it
            return frozenset()
        return keys
