"""unit: the timeline's kinds, as each capability declares them, and the service over a fake log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ecrm.campaigns.events import CAMPAIGN_EVENT_TYPES
from ecrm.cases.events import CASE_EVENT_TYPES
from ecrm.contact360.models import TimelineEntry, TimelinePage
from ecrm.contact360.timeline import TimelineService, retention
from ecrm.errors import InvalidInput
from ecrm.events import EVENT_TYPES
from ecrm.loyalty.events import LOYALTY_EVENT_TYPES
from ecrm.timeline import declared

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVENTS = Path(__file__).resolve().parents[3] / "events"
SCHEMAS = {
    (cls.source, detail_type): cls
    for registry in (EVENT_TYPES, CASE_EVENT_TYPES, CAMPAIGN_EVENT_TYPES, LOYALTY_EVENT_TYPES)
    for detail_type, cls in registry.items()
}


class Clock:
    def now(self) -> datetime:
        return AT


class Log:
    def __init__(self) -> None:
        self.entries: dict[str, dict[tuple[datetime, str], tuple[TimelineEntry, datetime]]] = {}
        self.erased: set[str] = set()

    def add(self, contact_id: str, entry: TimelineEntry, keep_until: datetime) -> bool:
        if contact_id in self.erased:
            return False
        self.entries.setdefault(contact_id, {})[(entry.at, entry.model_dump_json())] = (entry, keep_until)
        return True

    def page(self, contact_id: str, kinds: Sequence[str], limit: int, cursor: str | None) -> TimelinePage:
        found = [e for e, _ in self.entries.get(contact_id, {}).values() if not kinds or e.kind in kinds]
        return TimelinePage(items=sorted(found, key=lambda e: e.at, reverse=True)[:limit])

    def erase(self, contact_id: str, at: datetime) -> int:
        self.erased.add(contact_id)
        return len(self.entries.pop(contact_id, {}))


class Requesters:
    def requester_of(self, case_id: str) -> str | None:
        return {"case-1": "ann"}.get(case_id)


def _service(keep: str = "") -> tuple[TimelineService, Log]:
    log = Log()
    return TimelineService(log=log, requesters=Requesters(), clock=Clock(), keep=retention(keep)), log


@pytest.mark.parametrize("kind", [k for k in declared() if k.bus == "custom"], ids=lambda k: k.name)
def test_every_kind_of_ours_reads_a_real_event_by_a_field_it_has(kind):
    schema = SCHEMAS[(kind.source, kind.detail_type)]
    fields = set(schema.model_fields)
    assert (kind.contact_field in fields) or (kind.case_field in fields)
    sentence = kind.describe({name: "x" for name in fields})
    assert sentence and "{" not in sentence


def test_events_land_on_the_contact_they_name_directly_or_through_their_case():
    service, log = _service("default=30,points.earned=400")
    earned = {"occurred_at": AT.isoformat(), "member_id": "ann", "entry_id": "e", "order_id": "o-1", "points": 5}
    assert (
        service.record(
            "ecrm.loyalty",
            "PointsEarned.v1",
            {**earned, "rule_version": "1", "tier": "t", "lot": "l", "expires_at": "x"},
        )
        == "Added"
    )
    comment = {"occurred_at": AT.isoformat(), "case_id": "case-1", "comment_id": "c", "visibility": "public"}
    assert service.record("ecrm.cases", "CaseCommented.v1", comment) == "Added"
    assert service.record("ecrm.cases", "CaseCommented.v1", {**comment, "case_id": "case-9"}) == "NoContact"
    assert service.record("ecrm.campaigns", "CampaignSent.v1", {"occurred_at": AT.isoformat()}) == "Ignored"
    kept = {e.kind: until - e.at for e, until in log.entries["ann"].values()}
    assert kept == {"points.earned": timedelta(days=400), "case.commented": timedelta(days=30)}
    with pytest.raises(InvalidInput) as bad:
        service.record("ecrm.cases", "CaseCommented.v1", {**comment, "occurred_at": "yesterday"})
    assert bad.value.field == "detail.occurred_at"


def test_an_erasure_empties_the_timeline_and_later_events_are_dropped():
    service, log = _service()
    detail = {"occurred_at": AT.isoformat(), "contact_id": "ann", "changed": ["phone"]}
    service.record("ecrm.contacts", "ContactUpdated.v1", detail)
    erased = {"occurred_at": AT.isoformat(), "contact_id": "ann"}
    assert service.record("ecrm.contacts", "ContactErased.v1", erased) == "Emptied"
    assert service.record("ecrm.contacts", "ContactUpdated.v1", detail) == "Erased"
    assert "ann" not in log.entries


def test_unknown_kinds_and_bad_retention_settings_are_refused():
    service, _ = _service()
    with pytest.raises(InvalidInput) as bad:
        service.page("ann", ["case.opened", "case.exploded"], 10, None)
    assert bad.value.field == "kinds" and "case.exploded" in str(bad.value)
    for setting in ("default=0", "case.opened=soon", "default"):
        with pytest.raises(ValueError, match="timeline retention"):
            retention(setting)
    assert retention("")["default"] == timedelta(days=730)


def test_ses_mail_events_land_on_the_tagged_contact_with_ids_only():
    service, log = _service("default=30,mail.opened=90")
    batch = json.loads((EVENTS / "sqs" / "campaign_feedback_batch.json").read_text())
    outcomes = []
    for record in batch["Records"]:
        event = json.loads(record["body"])
        outcomes.append(service.record(event["source"], event["detail-type"], event["detail"]))
    assert set(outcomes) == {"Added"}
    entries = [entry for entry, _ in log.entries["0f8fad5bd9cb469fa16570867728950e"].values()]
    assert {e.kind for e in entries} == {
        "mail.sent",
        "mail.delivered",
        "mail.bounced",
        "mail.complained",
        "mail.opened",
        "mail.clicked",
    }
    for entry in entries:  # SES's detail names addresses and headers: the timeline keeps ids
        assert set(entry.detail) <= {"campaign_id", "run_id", "message_id", "bounce_type"}
        assert "@" not in json.dumps(entry.model_dump(mode="json"))
        assert entry.text.startswith("Campaign 7c1e5a2b mail ")
    untagged = json.loads(batch["Records"][0]["body"])
    untagged["detail"]["mail"]["tags"] = {}  # the consent mail, a case's mail: no campaign tags
    assert service.record("aws.ses", "Email Sent", untagged["detail"]) == "NoContact"


def test_entries_name_the_actor_our_events_carry_and_never_a_malformed_one():
    service, log = _service()
    base = {"occurred_at": AT.isoformat(), "contact_id": "ann", "changed": ["phone"]}
    for actor in ("user:agent-7", "client:shop-eu", "ann@example.com", None):
        service.record("ecrm.contacts", "ContactUpdated.v1", {**base, "changed": [str(actor)], "actor": actor})
    named = sorted(str(e.actor) for e, _ in log.entries["ann"].values())
    assert named == ["None", "None", "client:shop-eu", "user:agent-7"]  # an address is no actor


def test_loyalty_and_case_events_name_a_signed_in_user_and_nobody_else():
    from ecrm.cases.change import REQUESTER, SYSTEM_SLA, event_actor
    from ecrm.loyalty.events import events_for
    from ecrm.loyalty.models import LedgerEntry

    assert [event_actor(a) for a in ("u-1", REQUESTER, SYSTEM_SLA, "channel:email")] == ["user:u-1", None, None, None]
    adjusted = LedgerEntry(member_id="ann", kind="adjust", key="k", points=5, at=AT, actor="admin-1", reason="r")
    earned = LedgerEntry(member_id="ann", kind="earn", key="o-1", points=5, at=AT, order_id="o-1")
    assert [e.actor for e in events_for(adjusted, []) + events_for(earned, [])] == ["user:admin-1", None]
    assert "actor" not in events_for(earned, [])[0].model_dump(mode="json")  # the v1 detail as before
