"""Keeping the segment index current: each contact change re-projects its membership.

Fed by the contact events (ContactCaptured, ContactUpdated, ConsentConfirmed, ContactErased), the
loyalty tier (TierChanged), the contact's company and its attributes (the contact 360's
ContactCompanyChanged, newest by (since, company version)), suppression (MailSuppressed, from SES
feedback) and mail activity (opens, clicks). The event says *that* a contact changed; the projection
reads the contact as it is now, so events arriving out of order or twice converge on the same index
items. Two writers for one contact meet at the snapshot's version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ecrm.campaigns.models import TIER_CHANGED
from ecrm.campaigns.names import DetailType
from ecrm.campaigns.ports import ContactDirectory, MembershipStore
from ecrm.campaigns.segments import CompanyFacts, Member, index_keys, member_from_contact
from ecrm.contact360.events import ContactCompanyChanged
from ecrm.contact360.names import DetailType as Contact360DetailType
from ecrm.errors import Conflict, NotFound

_ATTEMPTS = 3
_CONTACT_ID = re.compile(r"^[0-9a-f]{32}$")
_CONTACT_EVENTS = frozenset({DetailType.CONTACT_CAPTURED, DetailType.CONTACT_UPDATED, DetailType.CONSENT_CONFIRMED})


@dataclass(frozen=True)
class _Carried:
    """What the snapshot knows that the contact does not: told by other capabilities' events."""

    tier: str | None = None
    suppressed: bool = False
    company: CompanyFacts | None = None

    @classmethod
    def of(cls, member: Member | None) -> _Carried:
        return cls(member.tier, member.suppressed, CompanyFacts.of(member)) if member else cls()


_Change = Callable[[_Carried], _Carried]


def _keep(carried: _Carried) -> _Carried:
    return carried


class MembershipService:
    def __init__(self, contacts: ContactDirectory, store: MembershipStore) -> None:
        self._contacts = contacts
        self._store = store

    def on_event(self, detail_type: str, detail: Mapping[str, Any]) -> frozenset[str] | None:
        """One bus event: the contact it names is re-projected (or erased). None: not ours."""
        contact_id = str(detail.get("member_id" if detail_type == TIER_CHANGED else "contact_id") or "")
        if not _CONTACT_ID.match(contact_id):
            return None  # MailSuppressed for an address no contact has, or a malformed event
        if detail_type == DetailType.CONTACT_ERASED:
            self.erase(contact_id)
            return frozenset()
        if detail_type == TIER_CHANGED:
            return self.set_tier(contact_id, str(detail.get("to_tier") or "") or None)
        if detail_type == DetailType.MAIL_SUPPRESSED:
            return self.suppress(contact_id)
        if detail_type == Contact360DetailType.CONTACT_COMPANY_CHANGED:
            return self.set_company(contact_id, _company_facts(detail))
        if detail_type in _CONTACT_EVENTS:
            return self.refresh(contact_id)
        return None

    def refresh(self, contact_id: str, activity: datetime | None = None) -> frozenset[str]:
        """Re-project the contact (after a contact event, or an open or click at `activity`, which
        can only move last activity forward). Returns the index keys it now has."""
        return self._retry(contact_id, _keep, activity)

    def set_tier(self, contact_id: str, tier: str | None) -> frozenset[str]:
        return self._retry(contact_id, lambda carried: replace(carried, tier=tier), None)

    def set_company(self, contact_id: str, told: CompanyFacts) -> frozenset[str]:
        """The contact's company as an event told it; kept only if newer than what we know."""
        return self._retry(
            contact_id,
            lambda carried: replace(carried, company=told) if told.newer_than(carried.company) else carried,
            None,
        )

    def suppress(self, contact_id: str) -> frozenset[str]:
        """The contact's address hard-bounced or complained: it leaves every plan (and count)."""
        return self._retry(contact_id, lambda carried: replace(carried, suppressed=True), None)

    def erase(self, contact_id: str) -> None:
        self._store.drop(contact_id)

    def _retry(self, contact_id: str, change: _Change, activity: datetime | None) -> frozenset[str]:
        for _ in range(_ATTEMPTS):
            try:
                return self._project(contact_id, change, activity)
            except Conflict:
                continue  # another event for this contact wrote first: re-read and re-project
        raise Conflict(f"membership of contact {contact_id} kept changing")

    def _project(self, contact_id: str, change: _Change, activity: datetime | None) -> frozenset[str]:
        current = self._store.load(contact_id)
        contact = self._contacts.get(contact_id)
        if contact is None:
            self._store.drop(contact_id)
            return frozenset()
        previous = current.member if current else None
        times = [t for t in (activity, previous.last_activity if previous else None) if t is not None]
        carried = change(_Carried.of(previous))
        member = member_from_contact(
            contact,
            tier=carried.tier,
            activity=max(times) if times else None,
            suppressed=carried.suppressed,
            company=carried.company,
        )
        keys = index_keys(member)
        if current is not None and current.member == member and current.keys == keys:
            return keys
        try:
            self._store.store(member, keys, current.keys if current else frozenset(), current.version if current else 0)
        except NotFound:
            self._store.drop(contact_id)  # erased while we were projecting it
            return frozenset()
        return keys


def _company_facts(detail: Mapping[str, Any]) -> CompanyFacts:
    told = ContactCompanyChanged.model_validate(detail)
    return CompanyFacts(told.company_id, told.attributes, told.since, told.company_version)
