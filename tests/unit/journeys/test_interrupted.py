"""unit: a contact left between two steps by a message that died goes on with the next message.

The entry (or a timer's wake) is written before the steps after it run; when a step then fails
for now (the account's send rate spent: RetryLater) or its move loses a race it cannot win by
reading again (a transaction conflict on a counter shard), the redelivered message must run the
step again, its mail claimed once, and a further delivery must change nothing. Over the bench's
counting in-memory ports (tests/bench/journeys_memory.py), which guard each write on `rev` as
DynamoProgress does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.clock import FixedClock
from ecrm.consumer import RetryLater
from ecrm.journeys.models import Definition, Journey, Progress, TimerFire
from ecrm.journeys.ports import Move
from ecrm.journeys.runner import Delivery, JourneyRunner
from ecrm.names import DetailType, Source

from tests.bench.journeys_memory import Calls, MemoryJourneys, MemoryMailer, MemoryProgress, MemoryTimers, Nobody

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
JOURNEY = "c" * 32
CONTACT = "d" * 32
DEFINITION = Definition.model_validate(
    {
        "name": "Welcome",
        "entry": {"event": DetailType.CONTACT_CAPTURED, "filter": {"tags": "trial"}},
        "steps": [
            {"id": "welcome", "type": "send_mail", "template_id": "a" * 32, "topic": "newsletter"},
            {"id": "pause", "type": "wait", "duration": {"days": 1}},
            {"id": "followup", "type": "send_mail", "template_id": "a" * 32, "topic": "newsletter"},
        ],
    }
)
CAPTURED = Delivery(DetailType.CONTACT_CAPTURED, Source.CONTACTS, {"contact_id": CONTACT, "tags": ["trial"]}, "e1")


class SpentOnce(MemoryMailer):
    """The account's send rate spent, once per step named: RetryLater before the mail is claimed."""

    def __init__(self, calls: Calls, steps: set[str]) -> None:
        super().__init__(calls)
        self.spent = set(steps)

    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        if step_id in self.spent:
            self.spent.discard(step_id)
            raise RetryLater("the account's send rate is spent for now")
        return super().send(progress, step_id, template_id, topic)


class LosesOnce(MemoryProgress):
    """The move leaving `step` refused once as a lost race (a conflict on its counter shard)."""

    def __init__(self, calls: Calls, journeys: MemoryJourneys, step: str) -> None:
        super().__init__(calls, journeys)
        self.step = step

    def move(self, move: Move) -> bool:
        if move.before is not None and move.before.step == self.step and move.before.status == "active":
            self.step = ""
            return False
        return super().move(move)


class World:
    def __init__(self, spent: frozenset[str] = frozenset(), loses: str = "") -> None:
        calls = Calls()
        self.clock = FixedClock(T0)
        journey = Journey(id=JOURNEY, name="W", status="live", version=1, created_at=T0, updated_at=T0)
        journeys = MemoryJourneys(calls, journey, DEFINITION)
        self.progress = LosesOnce(calls, journeys, loses)
        self.timers = MemoryTimers(calls)
        self.mailer = SpentOnce(calls, set(spent))
        nobody = Nobody(calls)
        self.runner = JourneyRunner(
            journeys=journeys,
            progress=self.progress,
            timers=self.timers,
            mail=self.mailer,
            facts=nobody,
            editor=nobody,
            resolver=nobody,
            resume=nobody,
            clock=self.clock,
        )

    def now(self) -> Progress:
        return self.progress.items[(JOURNEY, CONTACT)]

    def fire(self) -> TimerFire:
        self.clock.advance(timedelta(days=1, minutes=10).total_seconds())
        (timer,) = self.timers.timers.values()
        return TimerFire.model_validate(timer.payload)


def test_a_first_mail_refused_for_now_is_sent_once_when_the_event_comes_again() -> None:
    world = World(spent=frozenset({"welcome"}))
    with pytest.raises(RetryLater):
        world.runner.handle(CAPTURED)
    assert (world.now().status, world.now().step) == ("active", "welcome")  # entered, not mailed yet

    assert world.runner.handle(CAPTURED) == "Resumed"
    assert world.runner.handle(CAPTURED) == "Ignored"  # a third delivery: nothing more
    assert (world.now().status, world.now().step) == ("waiting", "pause")
    assert world.mailer.mails[CONTACT] == 1 and len(world.timers.timers) == 1


def test_a_mail_after_a_wait_refused_for_now_is_sent_once_when_the_timer_comes_again() -> None:
    world = World(spent=frozenset({"followup"}))
    world.runner.handle(CAPTURED)
    fire = world.fire()
    with pytest.raises(RetryLater):
        world.runner.handle(fire)
    assert (world.now().status, world.now().step) == ("active", "followup")

    assert world.runner.handle(fire) == "Resumed"
    assert world.runner.handle(fire) == "Stale"
    assert (world.now().status, world.now().outcome) == ("done", "completed")
    assert world.mailer.mails[CONTACT] == 2


def test_a_step_whose_move_lost_a_race_runs_again_in_the_same_delivery_without_a_second_mail() -> None:
    world = World(loses="welcome")
    assert world.runner.handle(CAPTURED) == "Resumed"  # read again: entered, the welcome's move lost
    assert (world.now().status, world.now().step) == ("waiting", "pause")
    assert world.mailer.mails[CONTACT] == 1
    assert world.progress.counters["s|welcome|sent"] == 1  # the lost move counted nothing
