"""What the contact 360 needs from the outside world: each capability's holdings about a contact."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ecrm.contact360.models import Company, CompanyMember, TimelineEntry, TimelinePage
from ecrm.events import DomainEvent
from ecrm.personal_data import Holding, Subject

if TYPE_CHECKING:  # other capabilities' models, named in signatures only: not loaded at cold start
    from ecrm.cases.models import Case
    from ecrm.loyalty.state import MemberState, OrderRecord


class PersonalDataStore(Protocol):
    """Everything one capability holds about one contact (its `adapters/dynamo_personal_data.py`)."""

    capability: str

    def holdings(self, subject: Subject) -> list[Holding]: ...


class SubjectDirectory(Protocol):
    """Who a contact id is: the contacts capability knows the address while the profile exists."""

    def subject(self, contact_id: str) -> Subject | None: ...


class TimelineLog(Protocol):
    """Each contact's timeline: entries kept until their retention ends, gone with the contact."""

    def add(self, contact_id: str, entry: TimelineEntry, keep_until: datetime) -> bool:
        """Keep `entry` (once: the same event again changes nothing); False if the contact was erased."""
        ...

    def page(self, contact_id: str, kinds: Sequence[str], limit: int, cursor: str | None) -> TimelinePage:
        """Newest first."""
        ...

    def erase(self, contact_id: str, at: datetime) -> int:
        """Forget the contact's timeline and refuse later entries for them; how many entries went."""
        ...


class RequesterDirectory(Protocol):
    """Whose case a case id is (the cases capability's, read only)."""

    def requester_of(self, case_id: str) -> str | None: ...


class CaseDirectory(Protocol):
    """The cases a contact requested (the cases capability's adapter, read only)."""

    def requested_by(self, contact_id: str) -> list[Case]: ...


class MemberDirectory(Protocol):
    """A contact's loyalty membership (the loyalty capability's adapter, read only)."""

    def get_member(self, member_id: str) -> MemberState | None: ...


class CampaignMailLog(Protocol):
    """A contact's campaign mail with its engagement (the campaigns capability's adapter, read only)."""

    def of_contact(self, contact_id: str) -> list[dict[str, Any]]: ...


class CompanyRepository(Protocol):
    """Companies, the e-mail domains each owns (one owner per domain), and which company each
    contact belongs to (one at most; a link staff made is not moved by a domain)."""

    def create(self, company: Company) -> None:
        """Raise Conflict naming `domains` when another company owns one of them."""
        ...

    def save(self, company: Company, before: Company, events: Sequence[DomainEvent] = ()) -> None:
        """Write `company` (and `events`) if `before` is still stored; Conflict otherwise or on a
        taken domain."""
        ...

    def get(self, company_id: str) -> Company | None: ...
    def by_domain(self, domain: str) -> Company | None: ...
    def company_of(self, contact_id: str) -> CompanyMember | None: ...
    def members(self, company_id: str, limit: int) -> tuple[list[CompanyMember], bool]:
        """The first `limit` contacts, and whether that was all of them."""
        ...

    def each_member(self, company_id: str) -> Iterator[CompanyMember]: ...
    def announce(self, events: Sequence[DomainEvent]) -> None: ...
    def link(
        self, company_id: str, member: CompanyMember, company_version: int, events: Sequence[DomainEvent] = ()
    ) -> bool:
        """Link the contact (moving it from another company) with `events`, if the company is still
        at `company_version` (Conflict otherwise); False when nothing changed (and nothing written)."""
        ...

    def unlink(self, contact_id: str, company_id: str | None = None, events: Sequence[DomainEvent] = ()) -> bool:
        """Unlink the contact (from `company_id` only, if given) with `events`; False when it was
        not linked (and nothing written)."""
        ...


class OrderLog(Protocol):
    """A member's orders as loyalty recorded them (the loyalty capability's adapter, read only)."""

    def orders_of(self, member_id: str) -> list[OrderRecord]: ...
