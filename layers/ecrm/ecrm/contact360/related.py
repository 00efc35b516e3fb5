"""A contact's related records: their cases, their loyalty membership and their campaign mail,
each shown only to roles that may read that capability (ecrm.access)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ecrm import access
from ecrm.contact360.models import CampaignMail, Membership, RelatedCase, RelatedRecords
from ecrm.contact360.ports import CampaignMailLog, CaseDirectory, MemberDirectory

if TYPE_CHECKING:
    from ecrm.cases.models import Case

NEVER = datetime.min.replace(tzinfo=UTC)
MAX_CASES = 100  # the newest; a requester with more is a support desk, not a person


@dataclass(frozen=True)
class RelatedService:
    cases: CaseDirectory
    members: MemberDirectory
    mail: CampaignMailLog

    def related(self, contact_id: str, roles: Set[str]) -> RelatedRecords:
        hidden = [
            name
            for name, allowed in (
                ("cases", access.CASE_READ),
                ("loyalty", access.LOYALTY_READ),
                ("campaigns", access.CAMPAIGN_READ),
            )
            if not roles & set(allowed)
        ]
        return RelatedRecords(
            contact_id=contact_id,
            cases=None if "cases" in hidden else self._cases(contact_id),
            loyalty=None if "loyalty" in hidden else self._membership(contact_id),
            campaigns=None if "campaigns" in hidden else self._mail(contact_id),
            hidden=hidden,
        )

    def _cases(self, contact_id: str) -> list[RelatedCase]:
        return newest_first(self.cases.requested_by(contact_id))[:MAX_CASES]

    def _membership(self, contact_id: str) -> Membership | None:
        member = self.members.get_member(contact_id)
        return Membership(balance=member.balance, tier=member.tier) if member else None

    def _mail(self, contact_id: str) -> list[CampaignMail]:
        mails = [CampaignMail.model_validate(m) for m in self.mail.of_contact(contact_id)]
        return sorted(mails, key=lambda m: m.settled_at or NEVER, reverse=True)  # unsettled last


def newest_first(cases: list[Case]) -> list[RelatedCase]:
    """Cases as a contact's (or a company's) related records show them."""
    return [
        RelatedCase(
            case_id=c.id,
            subject=c.subject,
            status=c.status,
            priority=c.priority,
            channel=c.channel,
            team=c.team,
            created_at=c.created_at,
            solved_at=c.solved_at,
        )
        for c in sorted(cases, key=lambda c: c.created_at, reverse=True)
    ]
