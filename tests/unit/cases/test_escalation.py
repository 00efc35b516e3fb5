"""unit: what a fired SLA timer does (pure decision): apply once, in order, or nothing when stale."""

from datetime import timedelta

from ecrm.cases import sla
from ecrm.cases.escalation import AlreadyApplied, Escalate, NotYetDue, Stale, decide
from ecrm.cases.models import Case
from ecrm.cases.sla import SlaTimerPayload

from tests.unit.cases.test_sla import at, edit, opened
from tests.unit.cases.world import BOOK

POLICY = BOOK.policies[0]


def fired(case: Case, milestone: str = "first_response", step: int = 1, **over: object) -> SlaTimerPayload:
    cycle = case.sla.clocks[milestone].cycle  # type: ignore[index]
    payload = {"case_id": case.id, "milestone": milestone, "cycle": cycle, "step": step}
    return SlaTimerPayload.model_validate({**payload, "generation": case.sla.generation, **over})


def applied(case: Case, step: int, when, milestone: str = "first_response") -> Escalate:
    decision = decide(case, POLICY, fired(case, milestone, step), when)
    assert isinstance(decision, Escalate), decision
    return decision


def test_the_breach_applies_level_one_and_says_so():
    case = opened(team="support", assignee_id="agent-1")  # first response due Monday 10:00
    decision = applied(case, 1, at(1, 10))
    after = decision.change.case
    assert after.escalation_level == 1 and after.sla.clocks["first_response"].breached
    assert (after.team, after.priority) == ("support", "normal")  # level 1 only tells the assignee
    assert [r.key for r in decision.records] == ["first_response#1#1"]
    assert decision.records[0].notify == ["assignee"] and decision.records[0].due_at == at(1, 10)
    assert [e.detail_type for e in decision.change.events] == ["SlaBreached.v1", "CaseEscalated.v1"]
    assert [e.action for e in decision.change.edits] == ["escalated"]


def test_a_step_already_applied_is_not_applied_again():
    case = opened()
    after = applied(case, 1, at(1, 10)).change.case
    again = decide(after, POLICY, fired(case, "first_response", 1), at(1, 10))
    assert again == AlreadyApplied(("first_response#1#0", "first_response#1#1"))
    # A warning that fires after the breach is moot.
    assert isinstance(decide(after, POLICY, fired(case, "first_response", 0), at(1, 10)), AlreadyApplied)


def test_a_timer_of_an_earlier_plan_is_stale_and_changes_nothing():
    case = opened()
    urgent = edit(case, at(1, 9.1), priority="urgent")
    decision = decide(urgent, POLICY, fired(case, "first_response", 1), at(1, 10))
    assert decision == Stale("the timer belongs to another generation or cycle of the case")


def test_a_timer_of_a_generation_the_case_never_had_is_stale():
    case = opened()  # a writer set timers for generation ffffffff, then stopped before its write
    never = fired(case, "first_response", 1).model_copy(update={"generation": "ffffffff"})
    assert isinstance(decide(case, POLICY, never, at(1, 10)), Stale)


def test_a_timer_of_an_earlier_cycle_is_stale():
    case = opened()
    decision = decide(case, POLICY, fired(case, "resolution", 1, cycle=2), at(1, 17))
    assert isinstance(decision, Stale)


def test_a_met_or_paused_milestone_ignores_its_timers_even_with_the_same_generation():
    case = opened()
    paused = edit(case, at(1, 9.5), generation=case.sla.generation, status="pending")
    assert isinstance(decide(paused, POLICY, fired(case), at(1, 10)), Stale)


def test_an_early_fire_is_not_yet_due():
    case = opened()
    assert decide(case, POLICY, fired(case), at(1, 9.9)) == NotYetDue(at(1, 10))
    assert isinstance(decide(case, POLICY, fired(case), at(1, 10) - timedelta(seconds=2)), Escalate)  # tolerance


def test_a_late_high_level_applies_the_lower_levels_first_each_once():
    case = opened(team="support", assignee_id="agent-1")
    decision = applied(case, 3, at(1, 14))  # level 3 arrives first (levels 1 and 2 were lost or late)
    after = decision.change.case
    assert [r.step for r in decision.records] == [1, 2, 3]
    assert [r.due_at for r in decision.records] == [at(1, 10), at(1, 12), at(1, 14)]
    assert [r.notify for r in decision.records] == [["assignee"], ["team_lead"], ["management"]]
    assert decision.records[1].team == "support"  # the lead of the team it was in is told
    assert (after.escalation_level, after.team, after.priority) == (3, "escalations", "high")
    assert [e.detail_type for e in decision.change.events] == [
        "SlaBreached.v1",
        "CaseEscalated.v1",
        "CaseEscalated.v1",
        "CaseEscalated.v1",
    ]
    # Once at level 3, the lower levels' own timers find their work done.
    for step in (0, 1, 2, 3):
        assert isinstance(decide(after, POLICY, fired(case, step=step), at(1, 15)), AlreadyApplied)


def test_the_warning_marks_the_clock_and_tells_the_assignee():
    case = opened(assignee_id="agent-1")
    decision = applied(case, 0, at(1, 9.75))
    assert decision.change.case.sla.clocks["first_response"].warned
    assert decision.change.case.escalation_level == 0
    assert [e.detail_type for e in decision.change.events] == ["SlaWarning.v1"]
    assert not [
        d for d in sla.due_steps(decision.change.case, POLICY) if d.step == 0 and d.milestone == "first_response"
    ]


def test_raising_priority_stops_at_urgent():
    case = opened(priority="urgent")
    late = applied(case, 3, at(1, 14)).change.case
    assert late.priority == "urgent" and late.escalation_level == 3
