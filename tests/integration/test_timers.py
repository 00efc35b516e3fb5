"""integration: the Timers adapter on EventBridge Scheduler (moto), fired by the local stack's Firing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.cases.names import Resource
from ecrm.clock import FixedClock
from ecrm.timers import Recurrence, Timer, timer_name
from ecrm_local import resources, schedules

from tests.support import Stack

GROUP = resources.physical_name(Resource.CASE_SCHEDULES)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2030, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def target(stack: Stack) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="timer-target")["QueueUrl"]
    return url, resources.queue_arn(boto3.session.Session(), url)


def _timers(clock: FixedClock, target: tuple[str, str]) -> SchedulerTimers:
    url, arn = target
    return SchedulerTimers(
        boto3.client("scheduler"),
        boto3.client("sqs"),
        clock,
        group=GROUP,
        role_arn="arn:aws:iam::123456789012:role/scheduler",
        queue_arn=arn,
        queue_url=url,
    )


def _bodies(url: str) -> list[dict[str, object]]:
    got = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_a_timer_is_a_self_deleting_at_schedule_that_moves_when_set_again(stack: Stack, clock, target):
    timers = _timers(clock, target)
    timers.set(Timer("case-1-breach", clock.now() + timedelta(hours=2), {"v": 1}))
    timers.set(Timer("case-1-breach", clock.now() + timedelta(hours=3), {"v": 2}))
    got = boto3.client("scheduler").get_schedule(Name="case-1-breach", GroupName=GROUP)
    assert got["ScheduleExpression"] == "at(2030-03-01T12:00:00)"
    assert got["ActionAfterCompletion"] == "DELETE" and got["State"] == "ENABLED"
    assert json.loads(got["Target"]["Input"]) == {"v": 2} and got["Target"]["Arn"] == target[1]


def test_a_due_timer_goes_straight_to_the_queue_and_cancel_is_idempotent(stack: Stack, clock, target):
    timers = _timers(clock, target)
    timers.set(Timer("t1", clock.now() + timedelta(hours=1), {"n": 1}))
    timers.set(Timer("t1", clock.now() - timedelta(seconds=1), {"n": 2}))  # moved into the past: fires now
    assert _bodies(target[0]) == [{"n": 2}]
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []
    timers.cancel("t1")
    timers.cancel("never-existed")


def test_firing_delivers_each_timer_once_and_a_recreated_timer_again(stack: Stack, clock, target):
    timers = _timers(clock, target)
    firing = schedules.Firing(boto3.session.Session(), clock)
    timers.set(
        Timer("again", clock.now() + timedelta(minutes=10), {"round": 1, "at": "<aws.scheduler.scheduled-time>"})
    )
    clock.advance(600)
    assert [f.name for f in firing.fire_due()] == [f"{GROUP}/again"]
    assert firing.fire_due() == []
    assert _bodies(target[0]) == [{"round": 1, "at": "2030-03-01T09:10:00Z"}]  # Scheduler's context attribute
    timers.set(Timer("again", clock.now() + timedelta(minutes=10), {"round": 2}))  # same name, new timer
    clock.advance(600)
    assert [f.name for f in firing.fire_due()] == [f"{GROUP}/again"]
    assert _bodies(target[0]) == [{"round": 2}]


def test_a_moved_timer_still_fires_at_its_new_time(stack: Stack, clock, target):
    timers = _timers(clock, target)
    firing = schedules.Firing(boto3.session.Session(), clock)
    timers.set(Timer("moved", clock.now() + timedelta(minutes=10), {"v": 1}))
    timers.set(Timer("moved", clock.now() + timedelta(minutes=20), {"v": 2}))
    clock.advance(15 * 60)
    assert firing.fire_due() == []
    clock.advance(5 * 60)
    assert [f.name for f in firing.fire_due()] == [f"{GROUP}/moved"]
    assert _bodies(target[0]) == [{"v": 2}]


def test_recurring_timer_fires_per_cron_in_its_time_zone(stack: Stack, clock, target):
    timers = _timers(clock, target)
    firing = schedules.Firing(boto3.session.Session(), clock)
    timers.set_recurring(Recurrence("weekly", "cron(0 9 ? * TUE *)", "Europe/Berlin", {"run": "weekly"}))
    firing.fire_due()  # first sight
    clock.advance(4 * 86400 - 3600 - 60)  # Friday 1 March 2030 09:00 UTC -> Tuesday 07:59 UTC = 08:59 Berlin
    assert firing.fire_due() == []
    clock.advance(60)
    assert [f.name for f in firing.fire_due()] == [f"{GROUP}/weekly"]
    assert _bodies(target[0]) == [{"run": "weekly"}]


def test_timer_names_are_scheduler_safe():
    assert timer_name("case", "abc", "first_response", "2") == "case-abc-first_response-2"
    long = timer_name("campaign", "x" * 80, "contact", "y" * 40)
    assert len(long) == 64 and long == timer_name("campaign", "x" * 80, "contact", "y" * 40)
    assert timer_name("a b/c") == "a_b_c"
    with pytest.raises(ValueError, match="timezone"):
        Timer("t", datetime(2030, 1, 1), {})


def test_a_due_timer_whose_send_fails_keeps_the_schedule_already_set(stack: Stack, clock, target):
    timers = _timers(clock, target)
    timers.set(Timer("safety", clock.now() + timedelta(seconds=90), {"n": 1}))  # the safety net, set before a write

    def refuse(**kwargs: object) -> None:
        raise RuntimeError("SQS unavailable")

    timers._sqs.send_message = refuse  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        timers.set(Timer("safety", clock.now() - timedelta(seconds=1), {"n": 1}))  # after the write: due now
    assert boto3.client("scheduler").get_schedule(Name="safety", GroupName=GROUP)["Name"] == "safety"


def test_a_moved_timer_fires_once_at_its_new_time(stack: Stack, clock, target):
    timers = _timers(clock, target)
    firing = schedules.Firing(boto3.session.Session(), clock)
    timers.set(Timer("moved", clock.now() + timedelta(minutes=10), {"v": 1}))
    timers.set(Timer("moved", clock.now() + timedelta(minutes=20), {"v": 2}))
    clock.advance(600)
    assert firing.fire_due() == []
    clock.advance(600)
    assert [f.name for f in firing.fire_due()] == [f"{GROUP}/moved"]
    assert _bodies(target[0]) == [{"v": 2}]
