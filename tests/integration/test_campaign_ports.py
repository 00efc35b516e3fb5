"""integration: the DynamoDB adapters keep the contracts of the campaigns ports, checked side by side
with the in-memory fakes the unit tests run on (so what the unit tests prove holds for the table)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ecrm.campaigns.adapters.dynamo_campaigns import DynamoCampaigns, DynamoRepository, DynamoRuns, DynamoStats
from ecrm.campaigns.adapters.dynamo_segments import DynamoPreferences, DynamoRecipients, DynamoSegmentIndex
from ecrm.campaigns.adapters.dynamo_sends import (
    DynamoFeedbackLog,
    DynamoRateSlots,
    DynamoSendRecords,
    DynamoSuppressions,
)
from ecrm.campaigns.models import (
    Campaign,
    CampaignDraft,
    Preferences,
    RunStage,
    SendKey,
    SendRecord,
    Suppression,
    Template,
    address_key,
)
from ecrm.campaigns.names import Env, Resource
from ecrm.campaigns.segments import IndexQuery, KeyRange, Member, SegmentRules, index_keys, partition
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from ecrm_infra import topology
from ecrm_local import resources
from moto import mock_aws

from tests.unit.campaigns.fakes import (
    MemoryCampaigns,
    MemoryContacts,
    MemoryDirectory,
    MemoryFeedbackLog,
    MemoryIndex,
    MemoryPreferences,
    MemoryRepo,
    MemoryRuns,
    MemorySendRecords,
    MemorySlots,
    MemoryStats,
    MemorySuppressions,
)
from tests.unit.campaigns.world import make_contact

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CID = "c" * 32


@dataclass
class Ports:
    kind: str
    records: Any
    runs: Any
    stats: Any
    index: Any
    preferences: Any
    suppressions: Any
    slots: Any
    log: Any
    campaigns: Any
    templates: Any
    directory: Any
    add_contact: Any
    remove_contact: Any


def _memory() -> Ports:
    contacts = MemoryContacts()
    stats = MemoryStats()
    index = MemoryIndex(contacts)
    preferences = MemoryPreferences(contacts)
    index.preferences = preferences
    suppressions = MemorySuppressions()
    return Ports(
        "memory",
        MemorySendRecords(stats),
        MemoryRuns(stats),
        stats,
        index,
        preferences,
        suppressions,
        MemorySlots(),
        MemoryFeedbackLog(),
        MemoryCampaigns(),
        MemoryRepo(),
        MemoryDirectory(contacts, preferences, suppressions, index),
        contacts.add,
        lambda c: contacts.contacts.pop(c.id),
    )


def _created(contacts: DynamoContacts, contact: Any) -> Any:
    contacts.create(contact, [])
    return contact


def _dynamo(env: dict[str, str]) -> Ports:
    db = boto3.client("dynamodb")
    table, contacts_table = env[Env.CAMPAIGNS_TABLE], env[Env.CONTACTS_TABLE]
    contacts = DynamoContacts(db, contacts_table)
    return Ports(
        "dynamo",
        DynamoSendRecords(db, table),
        DynamoRuns(db, table),
        DynamoStats(db, table),
        DynamoSegmentIndex(db, table, contacts_table),
        DynamoPreferences(db, table, contacts_table),
        DynamoSuppressions(db, table),
        DynamoRateSlots(db, table),
        DynamoFeedbackLog(db, table),
        DynamoCampaigns(db, table),
        DynamoRepository(db, table, Template, "TEMPLATE"),
        DynamoRecipients(db, table, contacts_table),
        lambda c: _created(contacts, c),
        lambda c: contacts.erase(c, T0),
    )


@contextmanager
def tables_only() -> Iterator[dict[str, str]]:
    """The two tables alone under mock_aws: these tests need no queue, bus or schedule (a whole
    stack per test would triple their time)."""
    saved = dict(os.environ)
    os.environ.update(
        {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    )
    try:
        with mock_aws():
            session = boto3.session.Session()
            names = {spec.name: resources._table(session, spec)[None] for spec in topology.TABLES}
            yield {
                Env.CAMPAIGNS_TABLE: names[Resource.CAMPAIGNS_TABLE],
                Env.CONTACTS_TABLE: names[Resource.CONTACTS_TABLE],
            }
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(params=["memory", "dynamo"])
def ports(request: pytest.FixtureRequest) -> Iterator[Ports]:
    if request.param == "memory":
        yield _memory()
        return
    with tables_only() as env:
        yield _dynamo(env)


def key(n: int = 1, run: str = "once") -> SendKey:
    return SendKey(campaign_id=CID, run_id=run, contact_id=f"{n:032x}")


def claim(n: int = 1, claim_id: str = "k1", variant: int | None = None) -> SendRecord:
    return SendRecord(
        key=key(n),
        status="sending",
        claim_id=claim_id,
        claimed_at=T0,
        lease_until=T0 + timedelta(minutes=5),
        variant=variant,
    )


# -- send records ----------------------------------------------------------------------------------


def test_one_claim_wins_and_the_loser_sees_the_winner(ports: Ports):
    assert ports.records.claim(claim(claim_id="a")) is None
    found = ports.records.claim(claim(claim_id="b"))
    assert found is not None and (found.status, found.claim_id) == ("sending", "a")
    ports.records.complete(claim(claim_id="b"), "m-b", T0)  # not this claim's record: nothing changes
    ports.records.complete(claim(claim_id="a"), "m-a", T0)
    ports.records.complete(claim(claim_id="a"), "m-a", T0)  # a repeat counts nothing
    stored = ports.records.existing([key()])[key()]
    assert (stored.status, stored.message_id) == ("sent", "m-a")
    assert ports.stats.get(CID).total.sent == 1


def test_triggered_mail_counts_each_new_record_as_targeted_once(ports: Ports):
    skipped = SendRecord(key=key(1), status="skipped", reason="no_consent", settled_at=T0)
    assert ports.records.settle(skipped, count_targeted=True) is True
    assert ports.records.settle(skipped, count_targeted=True) is False
    assert ports.records.claim(claim(1), count_targeted=True) is None  # over the skip: not new
    assert ports.records.claim(claim(2), count_targeted=True) is None
    assert ports.records.claim(claim(2, claim_id="k2"), count_targeted=True) is not None
    totals = ports.stats.get(CID).total
    assert (totals.targeted, totals.suppressed) == (2, 1)


def test_release_only_frees_its_own_open_claim(ports: Ports):
    ports.records.claim(claim(claim_id="a"))
    ports.records.release(key(), "other")
    assert key() in ports.records.existing([key()])
    ports.records.release(key(), "a")
    assert ports.records.existing([key()]) == {}
    assert ports.records.claim(claim(claim_id="c")) is None


def test_settle_counts_once_and_a_skipped_record_may_be_claimed_later(ports: Ports):
    skipped = SendRecord(key=key(), status="skipped", reason="no_consent", settled_at=T0)
    assert ports.records.settle(skipped) is True
    assert ports.records.settle(skipped) is False
    assert ports.records.claim(claim(variant=1)) is None  # consent came later: "once" means once mailed
    ports.records.complete(claim(variant=1), "m1", T0)
    counts = ports.stats.get(CID)
    assert (counts.total.suppressed, counts.total.sent, counts.variants[1].sent) == (1, 1, 1)


def test_an_unknown_outcome_is_confirmed_sent_by_the_ses_event_once(ports: Ports):
    ports.records.claim(claim())
    unknown = claim().model_copy(update={"status": "unknown", "reason": "claim expired", "settled_at": T0})
    assert ports.records.settle(unknown) is True
    assert ports.stats.get(CID).total.unknown == 1
    assert ports.records.confirm(key(), "m1", T0) is True
    assert ports.records.confirm(key(), "m1", T0) is False
    totals = ports.stats.get(CID).total
    assert (totals.unknown, totals.sent) == (0, 1)


def test_engagement_is_counted_once_and_never_creates_a_record(ports: Ports):
    ports.records.claim(claim(variant=0))
    ports.records.complete(claim(variant=0), "m1", T0)
    assert ports.records.mark(key(), "opened", T0) is True
    assert ports.records.mark(key(), "opened", T0 + timedelta(hours=1)) is False
    assert ports.records.mark(key(2), "opened", T0) is False  # no such send (an erased contact's)
    assert ports.records.existing([key(2)]) == {}
    counts = ports.stats.get(CID)
    assert (counts.total.opened, counts.variants[0].opened) == (1, 1)


# -- runs ------------------------------------------------------------------------------------------


def stage(**changes: Any) -> RunStage:
    return RunStage(campaign_id=CID, run_id="once", stage="all", rules=SegmentRules(), started_at=T0, **changes)


def test_run_stage_checkpoints_under_a_version_lock_and_counts_targeted(ports: Ports):
    first = stage()
    assert ports.runs.create(first) is True
    assert ports.runs.create(first) is False
    advanced = first.model_copy(update={"batches": 1, "targeted": 40, "cursor": "x", "version": 2})
    ports.runs.advance(advanced, 1, 40)
    with pytest.raises(Conflict):
        ports.runs.advance(advanced.model_copy(update={"version": 3}), 1, 10)
    stored = ports.runs.get(CID, "once", "all")
    assert (stored.batches, stored.cursor, stored.version) == (1, "x", 2)
    assert ports.stats.get(CID).total.targeted == 40


def test_a_batch_completes_once_and_not_across_a_restart(ports: Ports):
    ports.runs.create(stage())
    ports.runs.advance(stage(batches=2, targeted=5, planned=True, version=2), 1, 5)
    assert ports.runs.complete_batch(CID, "once", "all", 0, "0").done == 1
    assert ports.runs.complete_batch(CID, "once", "all", 0, "0").done == 1  # redelivered
    fresh = ports.runs.restart(ports.runs.get(CID, "once", "all"), 2)
    assert (fresh.epoch, fresh.done, fresh.batches, fresh.planned) == (1, 0, 0, False)
    assert ports.runs.complete_batch(CID, "once", "all", 0, "1").done == 0  # from before the restart
    assert ports.stats.get(CID).total.targeted == 0


# -- rate slots, suppression, feedback log ---------------------------------------------------------


def test_a_rate_slot_never_admits_more_than_its_limit(ports: Ports):
    takes = [ports.slots.take(100, 3, 10) for _ in range(4)]
    assert [t.granted for t in takes] == [True, True, True, False]
    assert takes[-1].used == 9
    assert ports.slots.take(100, 1, 10).granted and not ports.slots.take(100, 1, 10).granted
    assert ports.slots.take(101, 10, 10).granted  # the next second starts afresh


def test_a_complaint_replaces_a_bounce_never_the_reverse(ports: Ports):
    bounce = Suppression(address_key=address_key("A@x.org"), reason="bounced", at=T0)
    assert ports.suppressions.add("a@x.org", bounce) is True
    assert ports.suppressions.add("a@x.org", bounce) is False
    assert ports.suppressions.add("a@x.org", bounce.model_copy(update={"reason": "complained"})) is True
    assert ports.suppressions.add("a@x.org", bounce) is False
    assert ports.suppressions.get(" A@X.org ").reason == "complained"
    assert ports.suppressions.get("b@x.org") is None


def test_the_feedback_log_remembers_an_event(ports: Ports):
    assert ports.log.seen("e1") is False
    ports.log.record("e1", T0)
    assert ports.log.seen("e1") is True


# -- membership, index, preferences, recipients ---------------------------------------------------


def member(n: int, days: int, **attrs: Any) -> Member:
    return Member(contact_id=f"{n:032x}", last_activity=T0 - timedelta(days=days), consent_confirmed=True, **attrs)


def test_index_pages_a_partition_in_activity_order_within_a_range(ports: Ports):
    for n in range(1, 8):
        ports.add_contact(make_contact(n))
        m = member(n, days=n, tags=frozenset({"vip"}))
        ports.index.store(m, index_keys(m), frozenset(), 0)
    query = IndexQuery(partition("tag", "vip"), KeyRange(lower="2026-11-17T09:00:00Z", upper="2026-11-23T09:00:00Z"))
    page = ports.index.query(query, 2, None)
    seen = [m.contact_id for m in page.members]
    while page.cursor:
        page = ports.index.query(query, 2, page.cursor)
        seen += [m.contact_id for m in page.members]
    # oldest activity first; [lower, upper): n=7 sits on the lower bound (in), n=1 on the upper (out)
    assert seen == [f"{n:032x}" for n in (7, 6, 5, 4, 3, 2)]
    estimates = ports.index.estimates([partition("tag", "vip"), partition("tag", "none")])
    assert estimates == {partition("tag", "vip"): 7}


def test_a_forged_index_cursor_is_rejected_not_queried():
    with tables_only() as env:
        index = _dynamo(env).index
        forged = "eyJnc2kxcGsiOiB7IlMiOiAiU0VHI3RhZyNvdGhlciJ9fQ=="  # a cursor of another partition
        with pytest.raises(InvalidInput, match="cursor"):
            index.query(IndexQuery(partition("tag", "vip")), 2, forged)
        with pytest.raises(InvalidInput, match="cursor"):
            index.query(IndexQuery(partition("tag", "vip")), 2, "not base64 at all!")


def test_membership_moves_index_items_and_counts_under_a_version_lock(ports: Ports):
    ports.add_contact(make_contact(1))
    old = member(1, 1, tags=frozenset({"a", "b"}))
    ports.index.store(old, index_keys(old), frozenset(), 0)
    new = member(1, 0, tags=frozenset({"b"}))
    with pytest.raises(Conflict):
        ports.index.store(new, index_keys(new), index_keys(old), 0)
    ports.index.store(new, index_keys(new), index_keys(old), 1)
    loaded = ports.index.load(new.contact_id)
    assert (loaded.member, loaded.keys, loaded.version) == (new, index_keys(new), 2)
    assert ports.index.query(IndexQuery(partition("tag", "a")), 10, None).members == []
    estimates = ports.index.estimates([partition("tag", "a"), partition("tag", "b")])
    assert estimates.get(partition("tag", "a"), 0) == 0 and estimates[partition("tag", "b")] == 1


def test_an_erased_contact_cannot_be_projected_or_keep_anything_but_send_records(ports: Ports):
    ann = ports.add_contact(make_contact(1, tags=("vip",)))
    m = member(1, 1, tags=frozenset({"vip"}))
    ports.index.store(m, index_keys(m), frozenset(), 0)
    ports.preferences.save(Preferences(contact_id=ann.id, unsubscribed=frozenset({"offers"}), version=1), 0)
    ports.records.claim(claim())
    ports.remove_contact(ann)
    with pytest.raises(NotFound):
        ports.index.store(m, index_keys(m), index_keys(m), 1)
    with pytest.raises(NotFound):
        ports.preferences.save(Preferences(contact_id=ann.id, version=2), 1)
    ports.index.drop(ann.id)
    ports.index.drop(ann.id)  # a repeated erasure
    assert ports.index.load(ann.id) is None
    assert ports.preferences.get(ann.id).version == 0
    assert ports.index.query(IndexQuery(partition("tag", "vip")), 10, None).members == []
    assert ports.index.estimates([partition("tag", "vip")]).get(partition("tag", "vip"), 0) == 0
    assert key() in ports.records.existing([key()])  # ids only: kept (docs/campaigns.md, erasure)


def test_preferences_keep_a_version_lock(ports: Ports):
    ann = ports.add_contact(make_contact(1))
    ports.preferences.save(Preferences(contact_id=ann.id, unsubscribed=frozenset({"offers"}), version=1), 0)
    with pytest.raises(Conflict):
        ports.preferences.save(Preferences(contact_id=ann.id, version=1), 0)
    assert ports.preferences.get(ann.id).unsubscribed == {"offers"}


def test_recipients_come_with_preferences_suppression_and_tier(ports: Ports):
    ann = ports.add_contact(make_contact(1))
    bob = ports.add_contact(make_contact(2, email="bob@x.org"))
    m = member(1, 1, tier="gold")
    ports.index.store(m, index_keys(m), frozenset(), 0)
    ports.preferences.save(Preferences(contact_id=bob.id, unsubscribed=frozenset({"all"}), version=1), 0)
    ports.suppressions.add("BOB@x.org", Suppression(address_key=address_key("bob@x.org"), reason="bounced", at=T0))
    found = ports.directory.recipients([ann.id, bob.id, "f" * 32])
    assert (found[ann.id].tier, found[ann.id].suppression, found[ann.id].contact.email) == ("gold", None, ann.email)
    assert found[bob.id].preferences.unsubscribed == {"all"} and found[bob.id].suppression.reason == "bounced"
    assert found["f" * 32].contact is None


# -- entities --------------------------------------------------------------------------------------


def template(n: int) -> Template:
    at = T0 + timedelta(minutes=n)
    text = "x {{ unsubscribe_url }}"
    return Template(id=f"{n:032x}", name=f"T{n}", subject="s", html=text, text=text, created_at=at, updated_at=at)


def test_entities_create_once_save_under_a_version_lock_and_list_newest_first(ports: Ports):
    for n in range(1, 6):
        ports.templates.create(template(n))
    with pytest.raises(AlreadyExists):
        ports.templates.create(template(1))
    ports.templates.save(template(1).model_copy(update={"name": "new", "version": 2}), 1)
    with pytest.raises(Conflict):
        ports.templates.save(template(1).model_copy(update={"version": 3}), 1)
    page, cursor = ports.templates.list(2, None)
    names = [t.name for t in page]
    while cursor:
        page, cursor = ports.templates.list(2, cursor)
        names += [t.name for t in page]
    assert names == ["T5", "T4", "T3", "T2", "new"]


def test_live_triggered_campaigns_are_found_by_their_event_type(ports: Ports):
    draft = CampaignDraft.model_validate(
        {"name": "W", "template_id": "a" * 32, "schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"}}
    )
    campaign = Campaign(**draft.model_dump(), id=CID, owner="u", created_at=T0, updated_at=T0)
    ports.campaigns.create(campaign)
    assert ports.campaigns.live_triggered("ConsentConfirmed.v1") == []
    live = campaign.model_copy(update={"status": "sending", "version": 2})
    ports.campaigns.save(live, 1)
    assert [c.id for c in ports.campaigns.live_triggered("ConsentConfirmed.v1")] == [CID]
    assert ports.campaigns.live_triggered("TierChanged.v1") == []
    ports.campaigns.save(live.model_copy(update={"status": "paused", "version": 3}), 2)
    assert ports.campaigns.live_triggered("ConsentConfirmed.v1") == []


def test_no_adapter_call_is_a_scan():
    """Every DynamoDB call the adapters above make, recorded at botocore's boundary."""
    calls: list[str] = []
    with tables_only() as env:
        session = boto3.session.Session()
        session.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
        db = session.client("dynamodb")
        table, contacts = env[Env.CAMPAIGNS_TABLE], env[Env.CONTACTS_TABLE]
        DynamoContacts(db, contacts).create(make_contact(1, tags=("vip",)), [])
        index = DynamoSegmentIndex(db, table, contacts)
        m = member(1, 1, tags=frozenset({"vip"}))
        index.store(m, index_keys(m), frozenset(), 0)
        index.query(IndexQuery(partition("tag", "vip")), 10, None)
        index.estimates([partition("tag", "vip")])
        DynamoRecipients(db, table, contacts).recipients([m.contact_id])
        DynamoStats(db, table).get(CID)
        index.drop(m.contact_id)
    assert calls and "Scan" not in calls
    assert {"Query", "TransactWriteItems", "BatchGetItem"} <= set(calls)


def test_a_transaction_that_only_lost_a_race_is_run_again(monkeypatch):
    from ecrm.adapters import dynamo

    attempts: list[int] = []

    class Racing:
        def transact_write_items(self, TransactItems: Any) -> None:
            attempts.append(1)
            if len(attempts) < 3:
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException"},
                        "CancellationReasons": [{"Code": "TransactionConflict"}],
                    },
                    "TransactWriteItems",
                )

    dynamo.transact(Racing(), [{}], sleep=lambda _: None)  # type: ignore[arg-type]
    assert len(attempts) == 3
