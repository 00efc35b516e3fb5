"""unit: runs end to end on in-memory ports — timer -> planner -> batches -> sender -> sent;
planner restarts and crashes, pause and resume, recurring runs, A/B tests, triggered mail."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from ecrm.campaigns import ab
from ecrm.campaigns.models import RecurringSchedule
from ecrm.campaigns.runs import PlanCommand

from tests.unit.campaigns.world import T0, World, make_contact, must, ses_event


def population(world, n=50, **kw):
    """n mailable contacts, a third tagged vip, plus some that must never get mail."""
    good = [make_contact(i, tags=("vip",) if i % 3 == 0 else (), **kw) for i in range(1, n + 1)]
    unconfirmed = [make_contact(1000 + i, tags=("vip",), consent=False) for i in range(5)]
    world.add_contacts(*good, *unconfirmed)
    return good


def one_off(world, segment_id=None, at="2026-11-24T09:00:00", **extra):
    cid = world.campaign({"kind": "one_off", "at": at}, segment_id or world.segment(), **extra)
    world.service.schedule(cid)
    return cid


def mails_per_address(world):
    return Counter(world.ses.to())


def test_one_off_campaign_sends_exactly_once_to_its_segment_and_closes():
    world = World()
    good = population(world)
    cid = one_off(world, world.segment([{"kind": "tag", "any_of": ["vip"]}]))
    world.clock.advance(3600)
    world.run_until_quiet()
    vips = {c.email for c in good if "vip" in c.tags}
    assert set(mails_per_address(world)) == vips and set(mails_per_address(world).values()) == {1}
    campaign = world.campaigns[cid]
    assert (campaign.status, campaign.current_run) == ("sent", None)
    stats = world.stats.get(cid).total
    assert (stats.targeted, stats.sent) == (len(vips), len(vips))
    assert world.bus.types()[-2:] == ["CampaignSendStarted.v1", "CampaignSent.v1"]
    assert world.bus.events[-1].model_dump()["targeted"] == len(vips)
    assert {q.partition for q in world.index.queries} == {"SEG#tag#vip"}  # Query only


def test_planner_crash_between_enqueue_and_checkpoint_duplicates_no_mail():
    world = World(page_size=7)
    good = population(world)
    cid = one_off(world)
    world.clock.advance(3600)
    world.runs_store.fail_next_advance = True
    with pytest.raises(RuntimeError, match="before its checkpoint"):
        world.fire_timers()
    assert len(world.queue.batches) == 1  # the first page went out, its checkpoint did not
    world.runs.start(cid, "once", world.deadline())  # the start message is redelivered
    batch_ids = [b.batch for b in world.queue.batches]
    assert batch_ids[0] == batch_ids[1] == "0"  # the same page again, under the same batch id
    world.run_until_quiet()
    assert set(mails_per_address(world).values()) == {1} and len(world.ses.sent) == len(good)
    assert world.campaigns[cid].status == "sent"
    assert world.stats.get(cid).total.targeted == len(good)


def test_planner_out_of_time_continues_in_a_fresh_invocation():
    world = World(page_size=5)
    good = population(world)
    cid = one_off(world)
    world.clock.advance(3600)
    world.runs.start(cid, "once", deadline=world.clock.now())  # no time at all: one page, then hand over
    assert len(world.queue.batches) == 1
    handover = world.timers.timers[f"campaign-{cid}-plan"]
    assert handover.payload == {"action": "plan", "campaign_id": cid, "run_id": "once", "stage": "all"}
    world.run_until_quiet()
    assert len(world.ses.sent) == len(good) and world.campaigns[cid].status == "sent"


def test_pause_mid_run_then_resume_sends_everyone_once():
    world = World(page_size=10)
    good = population(world)
    cid = one_off(world)
    world.clock.advance(3600)
    world.fire_timers()
    first = world.queue.drain()
    world.sender().send(first[0], world.deadline())  # one batch goes out before the pause
    world.service.pause(cid)
    for batch in first[1:]:
        assert world.sender().send(batch, world.deadline()).dropped  # consumed, nothing sent
    assert world.campaigns[cid].status == "paused"
    world.service.resume(cid)
    world.run_until_quiet()
    assert len(world.ses.sent) == len(good) and set(mails_per_address(world).values()) == {1}
    assert world.campaigns[cid].status == "sent"
    assert world.stats.get(cid).total.targeted == len(good)  # the re-plan does not count twice


def test_recurring_campaign_runs_per_occurrence_and_waits_between():
    world = World()
    good = population(world, n=10)
    cid = world.campaign({"kind": "recurring", "cron": "0 9 ? * TUE *", "timezone": "UTC"}, world.segment())
    world.service.schedule(cid)
    payload = world.timers.recurring[f"campaign-{cid}-run"].payload
    for week in range(2):
        occurrence = datetime(2026, 11, 24, 9, tzinfo=UTC) + timedelta(weeks=week)
        command = {**payload, "occurrence": occurrence.isoformat()}
        world.runs.handle(PlanCommand.model_validate(command), world.deadline())
        world.runs.handle(PlanCommand.model_validate(command), world.deadline())  # delivered twice
        world.run_until_quiet()
        assert world.campaigns[cid].status == "scheduled"
    assert len(world.ses.sent) == 2 * len(good)
    runs = {tags["ecrm_run"] for _, tags in world.ses.sent}
    assert runs == {"20261124T0900Z", "20261201T0900Z"}
    assert isinstance(world.campaigns[cid].schedule, RecurringSchedule)


def test_ab_test_sends_variants_to_the_sample_then_the_winner_to_the_rest():
    world = World(page_size=25)
    good = population(world, n=200)
    subjects = ["A: news {{ first_name }}", "B: big news", "C: huge news"]
    cid = one_off(world, ab={"subjects": subjects, "sample_fraction": 0.3, "window_hours": 4, "metric": "open"})
    world.clock.advance(3600)
    world.run_until_quiet()
    campaign = world.campaigns[cid]
    sample = [c for c in good if ab.in_sample(must(campaign.ab), cid, c.id)]
    assert len(world.ses.sent) == len(sample) and 30 < len(sample) < 90
    assert f"campaign-{cid}-ab" in world.timers.timers  # the winner is picked after the window
    # Variant B's readers open their mail; nobody else does.
    for mail, tags in world.ses.sent:
        if mail.subject.startswith("B:"):
            world.feedback.handle(
                ses_event("Open", f"m-{tags['ecrm_contact']}", tags, open={"timestamp": "2026-11-24T10:00:00Z"})
            )
    world.clock.advance(4 * 3600)
    world.run_until_quiet()
    campaign = world.campaigns[cid]
    assert (campaign.ab_winner, campaign.status) == (1, "sent")
    assert set(mails_per_address(world).values()) == {1} and len(world.ses.sent) == len(good)
    rest = [m.subject for m, t in world.ses.sent[len(sample) :]]
    assert set(rest) == {"B: big news"}
    assert world.stats.get(cid).variants[1].opened > 0


# -- triggered -----------------------------------------------------------------------------------


def triggered(world, segment_id=None, **schedule):
    cid = world.campaign({"kind": "triggered", "detail_type": "ConsentConfirmed.v1", **schedule}, segment_id)
    world.service.schedule(cid)
    return cid


def test_triggered_welcome_goes_once_per_contact():
    world = World()
    ann = world.add_contacts(make_contact(1))[0]
    cid = triggered(world)
    assert world.campaigns[cid].status == "sending"
    for event_id in ("e1", "e1", "e2"):  # redelivered, then a second confirmation
        world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, event_id, world.clock.now())
        world.deliver()
    assert world.ses.to() == ["c1@example.com"]
    totals = world.stats.get(cid).total
    assert (totals.targeted, totals.sent) == (1, 1)  # no planner: the send record counts its contact once


def test_triggered_contact_without_consent_is_targeted_once_and_mailed_when_it_comes():
    world = World()
    ann = world.add_contacts(make_contact(1, consent=False))[0]
    cid = triggered(world)
    world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, "e1", world.clock.now())
    world.deliver()
    world.contacts.add(make_contact(1))  # confirmed now
    world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, "e2", world.clock.now())
    world.deliver()
    totals = world.stats.get(cid).total
    assert world.ses.to() == ["c1@example.com"]
    assert (totals.targeted, totals.suppressed, totals.sent) == (1, 1, 1)


def test_triggered_every_time_when_not_once_per_contact():
    world = World()
    ann = world.add_contacts(make_contact(1))[0]
    triggered(world, once_per_contact=False)
    for event_id in ("e1", "e1", "e2"):
        world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, event_id, world.clock.now())
        world.deliver()
    assert world.ses.to() == ["c1@example.com", "c1@example.com"]  # e1 once, e2 once


def test_triggered_delay_match_and_segment():
    world = World()
    ann, bob = world.add_contacts(make_contact(1, tags=("vip",)), make_contact(2))
    cid = triggered(
        world, world.segment([{"kind": "tag", "any_of": ["vip"]}]), delay_minutes=90, match={"form_id": "footer"}
    )
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id, "form_id": "popup"}, "e0", T0) == []
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": bob.id, "form_id": "footer"}, "e1", T0) == []
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id, "form_id": "footer"}, "e2", T0) == [
        cid
    ]
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": "not-an-id"}, "e3", T0) == []
    (timer,) = world.timers.timers.values()
    assert timer.at == T0 + timedelta(minutes=90) and world.queue.batches == []
    world.clock.advance(90 * 60)
    world.run_until_quiet()
    assert world.ses.to() == ["c1@example.com"]


def test_tier_change_congratulates_the_member_it_names():
    world = World()
    ann, bob = world.add_contacts(make_contact(1), make_contact(2))
    cid = world.campaign(
        {"kind": "triggered", "detail_type": "TierChanged.v1", "match": {"to_tier": "gold", "direction": "up"}}
    )
    world.service.schedule(cid)
    up = {"member_id": ann.id, "from_tier": "silver", "to_tier": "gold", "direction": "up", "tier_version": 2}
    down = {**up, "member_id": bob.id, "to_tier": "silver", "direction": "down"}
    assert world.triggers.on_event("TierChanged.v1", up, "t1", T0) == [cid]
    assert world.triggers.on_event("TierChanged.v1", down, "t2", T0) == []
    world.deliver()
    assert world.ses.to() == ["c1@example.com"]


def test_paused_triggered_campaign_is_not_live():
    world = World()
    ann = world.add_contacts(make_contact(1))[0]
    cid = triggered(world)
    world.service.pause(cid)
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, "e1", T0) == []
    world.service.resume(cid)
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, "e1", T0) == [cid]


def test_triggered_segment_is_judged_on_the_contact_not_a_lagging_index():
    world = World()
    cid = triggered(world, world.segment([{"kind": "tag", "any_of": ["vip"]}]))
    ann = world.contacts.add(make_contact(1, tags=("vip",)))  # confirmed, but not projected yet
    assert world.index.load(ann.id) is None
    assert world.triggers.on_event("ConsentConfirmed.v1", {"contact_id": ann.id}, "e1", T0) == [cid]
    world.deliver()
    assert world.ses.to() == ["c1@example.com"]


def test_once_per_contact_means_once_mailed_not_once_considered():
    world = World()
    pending = make_contact(1, consent=False)
    world.add_contacts(pending)
    cid = world.campaign({"kind": "triggered", "detail_type": "ContactCaptured.v1"})
    world.service.schedule(cid)
    world.triggers.on_event("ContactCaptured.v1", {"contact_id": pending.id}, "e1", T0)
    world.deliver()
    assert world.ses.sent == [] and world.stats.get(cid).total.suppressed == 1  # no consent yet
    world.contacts.add(make_contact(1, consent=True))
    for event_id in ("e2", "e3"):
        world.triggers.on_event("ContactCaptured.v1", {"contact_id": pending.id}, event_id, T0)
        world.deliver()
    assert world.ses.to() == ["c1@example.com"]  # mailed once it could be, and only once
