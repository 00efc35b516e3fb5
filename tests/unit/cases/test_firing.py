"""unit: SLA timers firing through the service: the ladder, double fires, stale and early timers,
lost timer calls and lost events."""

import pytest
from ecrm.cases.models import CasePatch
from pydantic import ValidationError

from tests.unit.cases.test_sla import at
from tests.unit.cases.world import AGENT, World


@pytest.fixture
def world():
    return World()


def timer_of(world: World, case_id: str, milestone: str, step: int) -> dict:
    return next(
        t.payload
        for t in world.timers.for_case(case_id)
        if t.payload["milestone"] == milestone and t.payload["step"] == step
    )


def test_the_ladder_warns_breaches_moves_and_raises_each_at_its_time(world):
    case = world.open(team="support", assignee_id="agent-1")
    world.advance(minutes=45)
    assert world.fire_due() == ["applied"]
    world.advance(minutes=15)  # 10:00, first response overdue
    assert world.fire_due() == ["applied"]
    assert world.case(case.id).escalation_level == 1
    world.advance(hours=2)  # 12:00, level 2
    world.fire_due()
    moved = world.case(case.id)
    assert (moved.escalation_level, moved.team, moved.priority) == (2, "escalations", "normal")
    world.advance(hours=2)  # 14:00, level 3
    world.fire_due()
    raised = world.case(case.id)
    assert (raised.escalation_level, raised.priority) == (3, "high")
    # High priority means resolution in 4 business hours: five have gone, so it is overdue at once.
    assert world.deliver_mail() == 6
    assert [(m.to, m.subject.split("] ")[1]) for m in world.outbox.sent] == [
        ("ann@corp.test", "SLA warning: first response due 2026-06-01 09:45 UTC"),
        ("ann@corp.test", "Escalation level 1: first response overdue"),
        ("lead@corp.test", "Escalation level 2: first response overdue"),
        ("boss@corp.test", "Escalation level 3: first response overdue"),
        ("ann@corp.test", "SLA warning: resolution due 2026-06-01 12:00 UTC"),
        ("ann@corp.test", "Escalation level 1: resolution overdue"),
    ]
    assert world.repo.audit[case.id][-1].detail["milestone"] == "resolution"
    assert [e.action for e in world.repo.audit[case.id]][:5] == ["created", "sla_warning"] + ["escalated"] * 3
    assert all(e.actor == "system:sla" for e in world.repo.audit[case.id][1:])
    assert world.queries.breached().items[0].id == case.id


def test_a_timer_fired_twice_applies_its_level_once(world):
    case = world.open()
    breach = timer_of(world, case.id, "first_response", 1)
    world.clock.at = at(1, 10)
    assert world.firing.on_timer(breach) == "applied"
    version, events = world.case(case.id).version, list(world.bus.events)
    assert world.firing.on_timer(breach) == "already_applied"
    assert world.case(case.id).version == version and world.bus.events == events
    assert [r.key for r in world.repo.escalations(case.id)] == ["first_response#1#1"]
    assert world.deliver_mail() == 1  # and the notice goes out once


def test_two_deliveries_of_one_timer_at_once_apply_it_once(world):
    case = world.open()
    breach = timer_of(world, case.id, "first_response", 1)
    world.clock.at = at(1, 10)
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.firing.on_timer(breach)  # the twin wins the write
    assert world.firing.on_timer(breach) == "already_applied"
    assert len(world.repo.escalations(case.id)) == 1
    assert world.bus.types().count("SlaBreached.v1") == 1
    assert world.case(case.id).escalation_level == 1


def test_a_timer_from_before_a_change_does_nothing(world):
    case = world.open()
    old = timer_of(world, case.id, "first_response", 1)
    world.work.update(case.id, CasePatch(priority="low", expected_version=1), AGENT)  # due 13:00 now
    world.clock.at = at(1, 10)  # the old timer's time
    events = len(world.bus.events)
    assert world.firing.on_timer(old) == "stale"
    changed = world.case(case.id)
    assert changed.version == 2 and changed.escalation_level == 0 and len(world.bus.events) == events
    assert not world.repo.escalations(case.id)


def test_an_early_timer_is_set_again_for_its_time(world):
    case = world.open()
    breach = timer_of(world, case.id, "first_response", 1)
    world.timers.active.clear()
    world.clock.at = at(1, 9.5)
    assert world.firing.on_timer(breach) == "not_yet_due"
    assert world.case(case.id).version == 1
    assert timer_of(world, case.id, "first_response", 1) == breach


def test_an_escalation_commits_its_events_once_however_often_its_timer_is_delivered(world):
    case = world.open()
    breach = timer_of(world, case.id, "first_response", 1)
    world.clock.at = at(1, 10)
    assert world.firing.on_timer(breach) == "applied"
    assert world.firing.on_timer(breach) == "already_applied"  # the queue redelivers
    assert world.firing.on_timer(breach) == "already_applied"
    assert world.bus.types() == ["CaseCreated.v1", "SlaBreached.v1", "CaseEscalated.v1", "CaseUpdated.v1"]


def test_an_escalation_that_races_an_agent_is_decided_again_on_the_agent_s_write(world):
    case = world.open()
    breach = timer_of(world, case.id, "first_response", 1)
    world.clock.at = at(1, 10)
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.work.update(
        case.id, CasePatch(assignee_id="agent-2", expected_version=1), AGENT
    )
    assert world.firing.on_timer(breach) == "applied"
    stored = world.case(case.id)
    assert (stored.assignee_id, stored.escalation_level, stored.version) == ("agent-2", 1, 3)


def test_a_public_reply_in_time_means_no_first_response_escalation(world):
    case = world.open()
    world.advance(minutes=30)
    world.work.comment(case.id, _public("Hello!"), AGENT)
    world.advance(hours=5, minutes=30)  # 15:00
    world.fire_due()
    assert world.case(case.id).escalation_level == 0
    assert not [r for r in world.repo.escalations(case.id) if r.milestone == "first_response"]
    assert [r.key for r in world.repo.escalations(case.id)] == ["resolution#1#0"]  # 15:00 warning


def test_timers_of_a_case_that_is_gone_or_payloads_that_are_not_ours(world):
    assert (
        world.firing.on_timer(
            {"case_id": "0" * 32, "milestone": "resolution", "cycle": 1, "step": 1, "generation": "00000001"}
        )
        == "stale"
    )
    with pytest.raises(ValidationError):
        world.firing.on_timer({"kind": "campaign.send", "campaign_id": "x"})


def _public(body: str):
    from ecrm.cases.models import CommentRequest

    return CommentRequest(body=body, visibility="public")
