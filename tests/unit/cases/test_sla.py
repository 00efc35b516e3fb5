"""unit: SLA policies, the SLA clock (pauses, meeting, reopening) and the timer plan (pure rules)."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.cases import sla, workflow
from ecrm.cases.calendar import BusinessCalendar
from ecrm.cases.models import Case, CasePatch
from ecrm.cases.policy import EscalationLevel, EscalationPolicy, PolicyBook, SlaPolicy
from ecrm.cases.workflow import Ctx, NewCase
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.cases.world import BOOK, T0, targets

H = timedelta(hours=1)
CID = "c" * 32


def opened(at: datetime = T0, book: PolicyBook = BOOK, **fields: object) -> Case:
    new = NewCase(
        **{
            "subject": "s",
            "description": "d",
            "priority": "normal",
            "channel": "web",
            "requester_id": "a" * 32,
            **fields,  # type: ignore[arg-type]
        }
    )
    policy = book.select(new.team, new.tags)
    change = workflow.open_case(new, CID, "00000001", Ctx(now=at, actor="t", policy=policy))
    return sla.replan(None, change.case, book, at, "00000001")


def edit(case: Case, at: datetime, book: PolicyBook = BOOK, generation: str = "00000002", **patch: object) -> Case:
    ctx = Ctx(now=at, actor="t", policy=book.governing(case))
    change = workflow.update(case, CasePatch.model_validate({"expected_version": case.version, **patch}), ctx)
    assert change is not None
    settled = sla.replan(case, change.case, book, at, generation)
    return settled.model_copy(update={"version": case.version + 1})


def steps(case: Case, book: PolicyBook = BOOK) -> list[tuple[str, str, datetime]]:
    return [(d.milestone, sla.step_label(d.step), d.at) for d in sla.due_steps(case, book.for_case(case))]


def at(day: int, hour: float) -> datetime:
    return datetime(2026, 6, day, tzinfo=UTC) + timedelta(hours=hour)


def test_a_new_case_plans_warning_breach_and_two_more_levels_per_milestone_in_business_time():
    case = opened()  # Monday 09:00, normal: first response 1 h, resolution 8 h, warning at 75 %
    assert steps(case) == [
        ("first_response", "warning", at(1, 9.75)),
        ("first_response", "level-1", at(1, 10)),
        ("first_response", "level-2", at(1, 12)),
        ("first_response", "level-3", at(1, 14)),
        ("resolution", "warning", at(1, 15)),
        ("resolution", "level-1", at(1, 17)),
        ("resolution", "level-2", at(2, 11)),  # two business hours after Monday's close
        ("resolution", "level-3", at(2, 13)),
    ]
    assert case.next_deadline == at(1, 10)


def test_pending_pauses_every_unmet_clock_and_open_resumes_with_the_time_left():
    case = opened()
    paused = edit(case, at(1, 9.5), status="pending")
    assert steps(paused) == [] and paused.next_deadline is None
    assert paused.sla.clocks["first_response"].consumed == 0.5 * H
    assert paused.queue_key.startswith("~")  # paused cases sort last in the work queues
    resumed = edit(paused, at(2, 16), generation="00000003", status="open")
    assert resumed.next_deadline == at(2, 16.5)  # the half hour it had left
    assert resumed.sla.generation == "00000003"


PAUSE_CAL = BusinessCalendar(timezone="Europe/Berlin", opens="08:00", closes="18:00")
PAUSE_BOOK = PolicyBook(policies=(SlaPolicy(id="p", calendar=PAUSE_CAL, targets={"normal": targets(4, 30)}),))
WEEK = st.datetimes(datetime(2026, 3, 20), datetime(2026, 4, 10), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(WEEK, st.timedeltas(timedelta(0), timedelta(days=3)), st.timedeltas(timedelta(0), timedelta(days=5)))
def test_a_pause_moves_the_deadline_by_exactly_the_business_time_it_covers(start, until_pause, pause):
    case = opened(at=start, book=PAUSE_BOOK)
    target = PAUSE_BOOK.policies[0].target("normal", "resolution")
    assert target is not None
    paused = edit(case, start + until_pause, book=PAUSE_BOOK, status="on_hold")
    resumed = edit(paused, start + until_pause + pause, book=PAUSE_BOOK, generation="00000003", status="open")
    unpaused = sla.deadline(case, PAUSE_BOOK.policies[0], "resolution")
    deadline = sla.deadline(resumed, PAUSE_BOOK.policies[0], "resolution")
    assert unpaused is not None and deadline is not None
    pause_from, pause_to = start + until_pause, start + until_pause + pause
    used_before = PAUSE_CAL.elapsed(start, pause_from)
    if used_before < target:
        # Business time used before the pause plus after it adds up to the target, to the microsecond,
        # so the deadline lies later by exactly the business time the pause covered.
        assert used_before + PAUSE_CAL.elapsed(pause_to, deadline) == target
        assert PAUSE_CAL.elapsed(start, deadline) == target + PAUSE_CAL.elapsed(pause_from, pause_to)
        assert deadline >= pause_to
    else:
        assert deadline == pause_to  # already overdue: due the moment it resumes
    assert deadline >= unpaused
    if PAUSE_CAL.elapsed(pause_from, pause_to) == timedelta(0):
        assert deadline == max(unpaused, pause_to)  # a pause outside business hours changes nothing


def test_an_unchanged_plan_keeps_the_generation_so_no_timer_moves():
    case = opened()
    assigned = edit(case, at(1, 9.1), assignee_id="agent-7")
    assert assigned.sla.generation == case.sla.generation
    assert sla.arming(case, assigned, BOOK) == sla.Arming([], [])


def test_a_new_priority_makes_a_new_plan_and_arming_swaps_the_timers():
    case = opened()
    urgent = edit(case, at(1, 9.1), priority="urgent")
    assert urgent.sla.generation != case.sla.generation
    assert urgent.next_deadline == at(1, 9.25)
    arming = sla.arming(case, urgent, BOOK)
    assert {t.name for t in arming.set} == {t.name for t in sla.plan(urgent, BOOK.for_case(urgent))}
    assert set(arming.cancel) == {t.name for t in sla.plan(case, BOOK.for_case(case))}
    assert not {t.name for t in arming.set} & set(arming.cancel)  # names carry the generation
    assert all(t.payload["generation"] == urgent.sla.generation for t in arming.set)


def test_moving_to_a_team_with_another_calendar_counts_the_time_so_far_under_the_old_one():
    case = opened(at=at(1, 16))  # one business hour left on Monday in standard hours
    moved = edit(case, at(1, 18), team="billing")  # billing: 24x7, first response 2 h
    assert moved.sla.policy_id == "billing-24x7"
    assert moved.sla.clocks["first_response"].consumed == H  # 16:00-17:00 counted, 17:00-18:00 not
    assert moved.next_deadline == at(1, 19)


def test_meeting_a_milestone_late_counts_as_a_breach_even_without_the_timer():
    case = opened()
    clocks = sla.meet(case.sla, "first_response", BOOK.policies[0].calendar, at(1, 11), H)
    clock = clocks.clocks["first_response"]
    assert (clock.met_at, clock.consumed, clock.breached, clock.running_since) == (at(1, 11), 2 * H, True, None)
    on_time = sla.meet(case.sla, "first_response", BOOK.policies[0].calendar, at(1, 9.5), H)
    assert on_time.clocks["first_response"].breached is False


def test_reopen_starts_a_new_cycle_from_zero():
    state = opened().sla
    state = sla.meet(state, "first_response", BOOK.policies[0].calendar, at(1, 9.5), H)
    state = sla.meet(state, "resolution", BOOK.policies[0].calendar, at(3, 9), 8 * H)
    reopened = sla.reopen(state, at(4, 9))
    assert reopened.clocks["first_response"] == state.clocks["first_response"]  # met stays met
    resolution = reopened.clocks["resolution"]
    assert (resolution.cycle, resolution.consumed, resolution.running_since, resolution.level) == (
        2,
        0 * H,
        at(4, 9),
        0,
    )


def test_the_most_specific_policy_wins():
    base = SlaPolicy(id="base", targets={})
    book = PolicyBook(
        policies=(
            base,
            SlaPolicy(id="tag", tag="vip", targets={}),
            SlaPolicy(id="team", team="billing", targets={}),
            SlaPolicy(id="both", team="billing", tag="vip", targets={}),
        )
    )
    assert book.select(None, []).id == "base"
    assert book.select(None, ["vip"]).id == "tag"
    assert book.select("billing", ["x"]).id == "team"
    assert book.select("billing", ["x", "vip"]).id == "both"


def test_a_priority_without_targets_has_no_timers():
    book = PolicyBook(policies=(SlaPolicy(id="only-urgent", targets={"urgent": targets(1, 4)}),))
    assert steps(opened(book=book), book) == []
    assert len(steps(opened(book=book, priority="urgent"), book)) == 8


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([{"after_breach": "PT1H", "actions": ["notify_assignee"]}], "level 1 is the breach"),
        (
            [
                {"after_breach": 0, "actions": ["notify_assignee"]},
                {"after_breach": "PT2H", "actions": ["notify_team_lead"]},
                {"after_breach": "PT1H", "actions": ["notify_management"]},
            ],
            "must not decrease",
        ),
        ([{"after_breach": 0, "actions": []}], "at least 1 item"),
    ],
)
def test_bad_escalation_ladders_are_refused(levels, message):
    with pytest.raises(ValidationError, match=message):
        EscalationPolicy.model_validate({"levels": levels, "escalation_team": "esc"})


def test_moving_needs_a_team_to_move_to_and_a_book_needs_one_default():
    with pytest.raises(ValidationError, match="needs an escalation_team"):
        EscalationPolicy(levels=(EscalationLevel(after_breach=timedelta(0), actions=("move_to_escalation_team",)),))
    with pytest.raises(ValidationError, match="exactly one policy"):
        PolicyBook(policies=(SlaPolicy(id="a", team="x", targets={}),))
    with pytest.raises(ValidationError) as info:
        SlaPolicy.model_validate({"id": "a", "targets": {"normal": {"first_response": "PT0S"}}})
    assert info.value.errors()[0]["loc"] == ("targets", "normal", "first_response")


def test_timer_payload_is_strict():
    good = {"case_id": CID, "milestone": "resolution", "cycle": 1, "step": 2, "generation": "0000abcd"}
    assert sla.SlaTimerPayload.model_validate(good).kind == "case.sla"
    for bad, field in (({"case_id": "x"}, "case_id"), ({"step": -1}, "step"), ({"extra": 1}, "extra")):
        with pytest.raises(ValidationError) as info:
            sla.SlaTimerPayload.model_validate({**good, **bad})
        assert info.value.errors()[0]["loc"] == (field,)
