"""integration: the local ticker finds due `at()` schedules through its index (ecrm_local.schedules)
rather than reading every schedule at every tick, and still fires exactly what moto holds: moved,
disabled and enabled again, deleted, or not delivered the first time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ecrm.clock import FixedClock
from ecrm_local import schedules
from moto import mock_aws

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _target() -> tuple[str, dict[str, str]]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r"}


def _schedule(name: str, at: datetime, target: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "ScheduleExpression": f"at({at:%Y-%m-%dT%H:%M:%S})",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {**target, "Input": name},
        "State": "ENABLED",  # moto's UpdateSchedule clears a state it is not given (decision 36)
        **extra,
    }


def _bodies(url: str) -> list[str]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_a_tick_reads_only_the_schedules_that_are_due(aws: None, monkeypatch: pytest.MonkeyPatch):
    clock = FixedClock(START)
    url, target = _target()
    scheduler = boto3.client("scheduler")
    for n in range(200):  # open cases' later timers
        scheduler.create_schedule(**_schedule(f"later-{n}", START + timedelta(days=1 + n), target))
    firing = schedules.Firing(boto3.session.Session(), clock)
    assert firing.fire_due() == []  # the index is built once, from moto
    for n in range(2):
        scheduler.create_schedule(**_schedule(f"soon-{n}", START + timedelta(minutes=5), target))
    parsed: list[str] = []
    real = schedules.at_time

    def counted(expression: str, timezone: str | None) -> datetime | None:
        parsed.append(expression)
        return real(expression, timezone)

    monkeypatch.setattr(schedules, "at_time", counted)

    assert firing.fire_due() == []
    clock.advance(300)
    assert sorted(f.name for f in firing.fire_due()) == ["default/soon-0", "default/soon-1"]
    assert firing.fire_due() == []

    assert _bodies(url) == ["soon-0", "soon-1"]
    assert len(parsed) <= 10, "a tick read schedules that were not due"  # moto's 202, three ticks over


def test_moved_disabled_enabled_and_deleted_schedules_fire_as_moto_holds_them(aws: None):
    clock = FixedClock(START)
    url, target = _target()
    scheduler = boto3.client("scheduler")
    firing = schedules.Firing(boto3.session.Session(), clock)
    firing.fire_due()
    for name in ("earlier", "later", "paused", "gone"):
        scheduler.create_schedule(**_schedule(name, START + timedelta(minutes=10), target))
    scheduler.update_schedule(**_schedule("earlier", START + timedelta(minutes=5), target))
    scheduler.update_schedule(**_schedule("later", START + timedelta(minutes=20), target))
    scheduler.update_schedule(**_schedule("paused", START + timedelta(minutes=10), target, State="DISABLED"))
    scheduler.delete_schedule(Name="gone")

    clock.advance(300)
    assert [f.name for f in firing.fire_due()] == ["default/earlier"]
    clock.advance(300)
    assert firing.fire_due() == []  # "later" moved on, "paused" is disabled, "gone" is gone
    scheduler.update_schedule(**_schedule("paused", START + timedelta(minutes=10), target, State="ENABLED"))
    assert [f.name for f in firing.fire_due()] == ["default/paused"]
    clock.advance(600)
    assert [f.name for f in firing.fire_due()] == ["default/later"]
    assert firing.fire_due() == []
    assert _bodies(url) == ["earlier", "later", "paused"]


def test_a_due_schedule_not_delivered_fires_at_the_next_tick(aws: None, monkeypatch: pytest.MonkeyPatch):
    clock = FixedClock(START)
    url, target = _target()
    boto3.client("scheduler").create_schedule(**_schedule("retry", START + timedelta(minutes=1), target))
    firing = schedules.Firing(boto3.session.Session(), clock)
    clock.advance(60)
    real = schedules.Dispatcher.deliver

    def refuse(self: Any, *args: Any) -> None:
        monkeypatch.setattr(schedules.Dispatcher, "deliver", real)
        raise RuntimeError("SQS unavailable")

    monkeypatch.setattr(schedules.Dispatcher, "deliver", refuse)
    with pytest.raises(RuntimeError):
        firing.fire_due()

    assert [f.name for f in firing.fire_due()] == ["default/retry"]
    assert _bodies(url) == ["retry"]
