"""unit: the write path's order (new timers, write, old timers) and a crash injected between its steps.

Every change that makes a new timer plan: (1) sets the new generation's timers, none sooner than
SAFETY, (2) writes the case, (3) moves the steps due soon to their time and cancels the old plan.
A function that dies between any two steps leaves the case with exactly one working plan.
"""

from datetime import datetime

import pytest
from ecrm.cases.models import CasePatch, IntakeMessage
from ecrm.cases.writer import SAFETY
from ecrm.errors import Conflict

from tests.unit.cases.test_sla import at
from tests.unit.cases.world import AGENT, World


class Crash(Exception):
    """The function instance dies here (a timeout, an out-of-memory kill)."""


@pytest.fixture
def world():
    return World()


def crash(*_: object) -> None:
    raise Crash


def generation_of(name: str) -> str:
    return name.rsplit("-", 1)[1]


def test_new_timers_are_set_before_the_write_and_old_ones_cancelled_after(world):
    case = world.open()
    old = set(world.timers.active)
    world.timers.calls.clear()
    world.repo.before_write = lambda: world.timers.calls.append(("write", ""))
    world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    kinds = [kind for kind, _ in world.timers.calls]
    new_generation = world.case(case.id).sla.generation
    assert kinds == ["set"] * 8 + ["write"] + ["cancel"] * 8
    assert all(generation_of(name) == new_generation for kind, name in world.timers.calls if kind == "set")
    assert {name for kind, name in world.timers.calls if kind == "cancel"} == old


def test_no_timer_set_before_a_write_can_fire_before_it(world):
    case = world.open()
    world.advance(minutes=20)  # urgent: first response 15 min, so its breach (09:15) is past already
    seen: list[tuple[str, datetime]] = []
    world.repo.before_write = lambda: seen.extend((n, t.at) for n, t in world.timers.active.items())
    world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    generation = world.case(case.id).sla.generation
    before_write = {name: when for name, when in seen if generation_of(name) == generation}
    assert before_write and min(before_write.values()) >= world.clock.now() + SAFETY
    # After the write the due steps have their real time: the warning and the breach go at once.
    assert world.fire_due() == ["applied", "applied"]
    assert world.case(case.id).escalation_level == 1


def test_a_crash_before_the_write_leaves_only_stale_timers_beside_the_working_plan(world):
    case = world.open()  # normal: first response due 10:00
    world.repo.before_write = lambda: crash()
    with pytest.raises(Crash):
        world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    stored = world.case(case.id)
    assert (stored.version, stored.priority) == (1, "normal")
    orphans = [n for n in world.timers.active if generation_of(n) != stored.sla.generation]
    assert len(orphans) == 8  # the urgent plan nobody stored
    world.clock.at = at(1, 17)
    assert [world.firing.on_timer(world.timers.active.pop(n).payload) for n in orphans] == ["stale"] * 8
    assert world.case(case.id).version == 1  # they changed nothing
    world.fire_due()
    # The stored plan runs as if nothing happened: the normal first response breached at 10:00.
    breach = next(r for r in world.repo.escalations(case.id) if r.key == "first_response#1#1")
    assert breach.due_at == at(1, 10)
    assert world.bus.types().count("SlaBreached.v1") == 2  # first response and resolution, once each
    assert not world.timers.active or all(t.at > world.clock.now() for t in world.timers.active.values())


def test_a_crash_before_a_new_case_is_written_leaves_timers_that_do_nothing(world):
    world.repo.before_write = lambda: crash()
    msg = IntakeMessage.model_validate(
        {
            "channel": "chat",
            "message_id": "chat-1",
            "requester": {"email": "d@example.com"},
            "subject": "s",
            "description": "d",
        }
    )
    with pytest.raises(Crash):
        world.intake.receive(msg)
    assert not world.repo.cases and len(world.timers.active) == 8
    world.advance(days=5)
    assert set(world.fire_due()) == {"stale"}
    assert not world.repo.cases and world.repo.writes == 0 and not world.timers.active  # nothing re-created
    assert world.intake.receive(msg).created  # the redelivery makes the case, with a plan of its own
    assert len(world.timers.active) == 8


def test_a_crash_after_the_write_leaves_old_timers_that_are_stale(world):
    case = world.open()
    world.timers.before_call = lambda kind, name: crash() if kind == "cancel" else None
    with pytest.raises(Crash):
        world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    world.timers.before_call = None
    stored = world.case(case.id)
    assert (stored.version, stored.priority) == (2, "urgent")
    assert len(world.timers.active) == 16  # both plans
    world.clock.at = at(1, 9.5)
    outcomes = world.fire_due()
    assert "applied" in outcomes
    assert world.case(case.id).escalation_level == 1  # urgent: first response breached at 09:15
    world.clock.at = at(1, 17)
    world.fire_due()
    fr_breaches = [r for r in world.repo.escalations(case.id) if r.key == "first_response#1#1"]
    assert [r.due_at for r in fr_breaches] == [at(1, 9.25)]  # the old (10:00) timer was stale


def test_a_crash_before_a_due_step_is_sent_is_covered_by_its_safety_timer(world):
    case = world.open()
    world.advance(minutes=20)  # the urgent first-response breach (09:15) is past
    sets: list[str] = []

    def die_on_the_second_set(kind: str, name: str) -> None:
        if kind == "set":
            if name in sets:
                raise Crash  # the move to the real time (straight to the queue) never happens
            sets.append(name)

    world.timers.before_call = die_on_the_second_set
    with pytest.raises(Crash):
        world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    world.timers.before_call = None
    assert world.case(case.id).priority == "urgent"
    assert world.fire_due() == []  # nothing due yet: the step waits on its safety timer
    world.clock.advance(SAFETY.total_seconds())
    assert "applied" in world.fire_due()
    assert world.case(case.id).escalation_level == 1
    assert world.bus.types().count("SlaBreached.v1") == 1


def test_a_refused_write_takes_its_timers_back(world):
    case = world.open()
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.work.update(case.id, CasePatch(priority="high", expected_version=1), AGENT)
    with pytest.raises(Conflict):
        world.work.update(case.id, CasePatch(priority="urgent", expected_version=1), AGENT)
    stored = world.case(case.id)
    assert stored.priority == "high"
    assert {generation_of(n) for n in world.timers.active} == {stored.sla.generation}


def test_an_escalation_that_loses_a_race_leaves_no_timers_of_its_own(world):
    case = world.open()
    breach = next(t.payload for t in world.timers.for_case(case.id) if t.payload["step"] == 1)
    world.clock.at = at(1, 10)
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.firing.on_timer(breach)
    assert world.firing.on_timer(breach) == "already_applied"
    assert {generation_of(n) for n in world.timers.active} == {world.case(case.id).sla.generation}
    assert world.case(case.id).escalation_level == 1 and world.bus.types().count("SlaBreached.v1") == 1
