"""What the contact 360 needs from the outside world: each capability's holdings about a contact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from ecrm.cases.models import Case
from ecrm.contact360.models import TimelineEntry, TimelinePage
from ecrm.loyalty.state import MemberState
from ecrm.personal_data import Holding, Subject


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

    def cases_of_requester(self, contact_id: str) -> list[str]: ...
    def get(self, case_id: str) -> Case | None: ...


class MemberDirectory(Protocol):
    """A contact's loyalty membership (the loyalty capability's adapter, read only)."""

    def get_member(self, member_id: str) -> MemberState | None: ...


class CampaignMailLog(Protocol):
    """A contact's campaign mail with its engagement (the campaigns capability's adapter, read only)."""

    def of_contact(self, contact_id: str) -> list[dict[str, Any]]: ...
