"""unit: a contact's related records, each capability shown to the roles that may read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.cases.models import Case
from ecrm.contact360.related import MAX_CASES, RelatedService
from ecrm.loyalty.state import MemberState

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class Cases:
    def __init__(self, cases: list[Case]) -> None:
        self._cases = {c.id: c for c in cases}

    def requested_by(self, contact_id: str) -> list[Case]:
        return list(self._cases.values())


class Members:
    def get_member(self, member_id: str) -> MemberState | None:
        return MemberState(member_id=member_id, balance=120, tier="gold") if member_id == "ann" else None


class Mail:
    def of_contact(self, contact_id: str) -> list[dict[str, Any]]:
        return [
            {"campaign_id": "c1", "run_id": "once", "status": "sending"},
            {
                "campaign_id": "c2",
                "run_id": "once",
                "status": "sent",
                "settled_at": (T0 + timedelta(days=2)).isoformat(),
            },
            {
                "campaign_id": "c3",
                "run_id": "r",
                "status": "sent",
                "settled_at": T0.isoformat(),
                "opened_at": T0.isoformat(),
            },
        ]


def _case(n: int) -> Case:
    sla = {"policy_id": "default", "generation": "0123abcd", "clocks": {}}
    return Case.model_validate(
        {
            "id": f"{n:032x}",
            "subject": f"Case {n}",
            "description": "d",
            "priority": "normal",
            "status": "open",
            "channel": "web",
            "requester_id": "a" * 32,
            "sla": sla,
            "created_at": T0 + timedelta(hours=n),
            "updated_at": T0 + timedelta(hours=n),
        }
    )


def test_each_section_goes_to_the_roles_that_may_read_it_newest_first():
    service = RelatedService(cases=Cases([_case(1), _case(2)]), members=Members(), mail=Mail())
    admin = service.related("ann", {"admin"})
    assert [c.subject for c in admin.cases or []] == ["Case 2", "Case 1"]
    assert admin.loyalty is not None and (admin.loyalty.balance, admin.loyalty.tier) == (120, "gold")
    assert [m.campaign_id for m in admin.campaigns or []] == ["c2", "c3", "c1"]  # unsettled last
    assert admin.hidden == []
    agent = service.related("ann", {"agent"})
    assert agent.campaigns is None and agent.hidden == ["campaigns"] and agent.cases
    marketer = service.related("bob", {"marketer"})
    assert marketer.cases is None and marketer.hidden == ["cases"] and marketer.loyalty is None
    assert service.related("ann", set()).hidden == ["cases", "loyalty", "campaigns"]


def test_a_requester_with_very_many_cases_gets_the_newest():
    many = [_case(n) for n in range(MAX_CASES + 5)]
    shown = RelatedService(cases=Cases(many), members=Members(), mail=Mail()).related("ann", {"agent"}).cases
    assert shown is not None and len(shown) == MAX_CASES and shown[0].subject == f"Case {MAX_CASES + 4}"
