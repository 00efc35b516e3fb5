"""unit: the campaign state machine and the schedules a campaign owns."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from ecrm.campaigns import lifecycle
from ecrm.campaigns.models import Campaign
from ecrm.errors import Conflict, InvalidInput
from ecrm.timers import ARMING_MARGIN

from tests.unit.campaigns.world import T0, World, hex_id

STATUSES = ["draft", "scheduled", "sending", "sent", "paused", "cancelled"]


def campaign(status="draft", kind="one_off", **extra):
    schedules = {
        "one_off": {"kind": "one_off", "at": "2026-12-01T09:00:00", "timezone": "Europe/Berlin"},
        "recurring": {"kind": "recurring", "cron": "0 9 ? * TUE *", "timezone": "Europe/Berlin"},
        "triggered": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"},
    }
    return Campaign.model_validate(
        {
            "id": hex_id(900),
            "name": "C",
            "template_id": hex_id(901),
            "segment_id": hex_id(902),
            "schedule": schedules[kind],
            "status": status,
            "owner": "u",
            "created_at": T0,
            "updated_at": T0,
            **extra,
        }
    )


@pytest.mark.parametrize(("source", "target"), list(product(STATUSES, STATUSES)))
def test_only_listed_transitions_are_allowed(source, target):
    c = campaign(source)
    if target in lifecycle.TRANSITIONS[source]:
        moved = lifecycle.move(c, target, T0)
        assert (moved.status, moved.version) == (target, c.version + 1)
    else:
        with pytest.raises(Conflict, match=f"a {source} campaign cannot become {target}"):
            lifecycle.move(c, target, T0)


def test_sent_and_cancelled_are_terminal():
    assert lifecycle.TRANSITIONS["sent"] == lifecycle.TRANSITIONS["cancelled"] == frozenset()


def test_schedule_arms_by_kind():
    assert lifecycle.schedule(campaign(kind="one_off"), T0).status == "scheduled"
    assert lifecycle.schedule(campaign(kind="triggered"), T0).status == "sending"  # live
    with pytest.raises(Conflict):
        lifecycle.schedule(campaign("scheduled"), T0)


def test_runs_end_in_sent_or_back_to_scheduled():
    one_off = lifecycle.start_run(campaign("scheduled"), "once", T0)
    assert (one_off.status, one_off.current_run, one_off.runs_started) == ("sending", "once", 1)
    assert lifecycle.finish_run(one_off, "once", T0, more_runs=True).status == "sent"
    weekly = lifecycle.start_run(campaign("scheduled", "recurring"), "r1", T0)
    assert lifecycle.finish_run(weekly, "r1", T0, more_runs=True).status == "scheduled"
    assert lifecycle.finish_run(weekly, "r1", T0, more_runs=False).status == "sent"
    with pytest.raises(Conflict):
        lifecycle.finish_run(weekly, "another-run", T0, more_runs=True)


def test_a_started_campaign_cannot_go_back_to_draft():
    started = lifecycle.start_run(campaign("scheduled", "recurring"), "r1", T0)
    back = lifecycle.finish_run(started, "r1", T0, more_runs=True)
    with pytest.raises(Conflict, match="has not run yet"):
        lifecycle.unschedule(back, T0)


def test_resume_continues_an_open_run_or_waits_for_the_timer():
    running = lifecycle.pause(lifecycle.start_run(campaign("scheduled"), "once", T0), T0)
    assert lifecycle.resume(running, T0).status == "sending"
    waiting = lifecycle.pause(campaign("scheduled"), T0)
    assert lifecycle.resume(waiting, T0).status == "scheduled"
    with pytest.raises(Conflict):
        lifecycle.resume(campaign("scheduled"), T0)


# -- the service: schedules the campaign owns ----------------------------------------------------


@pytest.fixture
def world():
    return World()


def test_one_off_is_scheduled_at_the_local_time_in_its_zone(world):
    winter = world.campaign(
        {"kind": "one_off", "at": "2026-12-01T09:00:00", "timezone": "Europe/Berlin"}, world.segment()
    )
    summer = world.campaign(
        {"kind": "one_off", "at": "2027-07-01T09:00:00", "timezone": "Europe/Berlin"}, world.segment()
    )
    world.service.schedule(winter)
    world.service.schedule(summer)
    assert world.timers.timers[f"campaign-{winter}-run"].at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert world.timers.timers[f"campaign-{summer}-run"].at == datetime(2027, 7, 1, 7, tzinfo=UTC)
    assert world.timers.timers[f"campaign-{winter}-run"].payload == {
        "action": "start",
        "campaign_id": winter,
        "run_id": "once",
    }
    scheduled = [e for e in world.bus.events if e.detail_type == "CampaignScheduled.v1"]
    assert (scheduled[0].model_dump()["campaign_id"], scheduled[0].model_dump()["send_at"]) == (
        winter,
        datetime(2026, 12, 1, 8, tzinfo=UTC),
    )


def test_recurring_owns_a_cron_schedule_and_cancel_removes_it(world):
    cid = world.campaign(
        {"kind": "recurring", "cron": "cron(0 9 ? * TUE *)", "timezone": "Europe/Berlin"}, world.segment()
    )
    world.service.schedule(cid)
    recurrence = world.timers.recurring[f"campaign-{cid}-run"]
    assert (recurrence.cron, recurrence.timezone) == ("cron(0 9 ? * TUE *)", "Europe/Berlin")
    assert recurrence.payload["occurrence"] == "<aws.scheduler.scheduled-time>"
    cancelled = world.service.cancel(cid)
    assert cancelled.status == "cancelled"
    assert world.timers.recurring == {} and world.timers.timers == {}


def test_scheduling_in_the_past_names_the_field(world):
    cid = world.campaign({"kind": "one_off", "at": "2020-01-01T09:00:00"}, world.segment())
    with pytest.raises(InvalidInput) as caught:
        world.service.schedule(cid)
    assert caught.value.field == "schedule.at" and caught.value.status == 422
    assert world.campaigns[cid].status == "draft" and world.timers.timers == {}


def test_edits_need_a_draft_and_the_current_version(world):
    seg = world.segment()
    cid = world.campaign({"kind": "one_off", "at": "2026-12-01T09:00:00"}, seg)
    with pytest.raises(Conflict, match="version 1, not 3"):
        world.service.schedule(cid, expected_version=3)
    world.service.schedule(cid, expected_version=1)
    draft = world.campaigns[cid]
    with pytest.raises(Conflict, match="cannot be edited"):
        world.service.update(cid, draft, expected_version=None)
    world.service.unschedule(cid)
    assert world.timers.timers == {}
    renamed = world.service.update(cid, draft.model_copy(update={"name": "Renamed"}), expected_version=3)
    assert (renamed.name, renamed.status, renamed.version) == ("Renamed", "draft", 4)


def test_unknown_template_or_segment_is_a_field_error(world):
    with pytest.raises(InvalidInput) as caught:
        world.campaign({"kind": "one_off", "at": "2026-12-01T09:00:00"}, hex_id(12345))
    assert caught.value.field == "segment_id"
    with pytest.raises(InvalidInput) as caught:
        world.campaign({"kind": "one_off", "at": "2026-12-01T09:00:00"}, world.segment(), template_id=hex_id(54321))
    assert caught.value.field == "template_id"


def test_paused_one_off_skips_its_timer_and_resume_sets_it_again(world):
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.service.pause(cid)
    world.clock.advance(2 * 3600)
    world.fire_timers()  # fires while paused: skipped
    assert world.campaigns[cid].status == "paused" and world.campaigns[cid].runs_started == 0
    world.service.resume(cid)
    timer = world.timers.timers[f"campaign-{cid}-run"]
    assert timer.at == world.clock.now()  # its time has passed: fires at once
    world.fire_timers()
    assert world.campaigns[cid].status in ("sending", "sent")


def test_stale_timer_after_cancel_does_nothing(world):
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    timer = world.timers.timers[f"campaign-{cid}-run"]
    world.service.cancel(cid)
    world.timers.set(timer)  # the race: it fires after the cancel
    world.clock.advance(3 * 3600)
    world.fire_timers()
    assert world.campaigns[cid].status == "cancelled" and world.queue.batches == []
    assert world.runs_store.stages == {}


def test_stale_run_timestamps_do_not_touch_other_campaigns(world):
    seg = world.segment()
    first = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, seg)
    second = world.campaign({"kind": "one_off", "at": "2026-11-24T10:00:00"}, seg)
    world.service.schedule(first)
    world.service.schedule(second)
    world.clock.advance(1.5 * 3600)
    world.fire_timers()
    assert world.campaigns[first].runs_started == 1 and world.campaigns[second].runs_started == 0
    assert world.clock.now() - T0 == timedelta(hours=1.5)


def test_a_one_off_due_now_is_armed_outside_the_margin_before_the_save_and_at_its_time_after(world, monkeypatch):
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T08:00:00"}, world.segment())  # T0 itself
    name = f"campaign-{cid}-run"
    seen_at_save = []
    save = world.campaigns.save

    def save_and_look(campaign, expected_version, events=()):
        if campaign.status == "scheduled":
            seen_at_save.append(world.timers.timers[name].at)
        save(campaign, expected_version, events)

    monkeypatch.setattr(world.campaigns, "save", save_and_look)
    world.service.schedule(cid)
    # While the save ran, the planner could not have been handed the timer yet ...
    assert seen_at_save == [T0 + ARMING_MARGIN]
    # ... and once the campaign is scheduled, its timer is at its real time.
    assert world.timers.timers[name].at == T0
    world.fire_timers()
    assert world.campaigns[cid].status in ("sending", "sent")


def test_a_crash_at_the_save_leaves_only_a_timer_outside_the_margin_that_does_nothing(world, monkeypatch):
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T08:00:00"}, world.segment())

    def crash(campaign, expected_version, events=()):
        raise RuntimeError("the function died here")

    monkeypatch.setattr(world.campaigns, "save", crash)
    with pytest.raises(RuntimeError):
        world.service.schedule(cid)
    (timer,) = world.timers.timers.values()
    assert timer.at == T0 + ARMING_MARGIN
    world.clock.advance(ARMING_MARGIN.total_seconds())
    world.fire_timers()  # fires into a campaign that is still a draft
    assert world.campaigns[cid].status == "draft" and world.queue.batches == []
