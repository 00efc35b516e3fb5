"""unit: agents working cases: optimistic locking, the status machine, comments, pauses, solve, reopen."""

from datetime import timedelta

import pytest
from ecrm.cases.models import CasePatch, CommentRequest
from ecrm.cases.policy import PolicyBook
from ecrm.cases.service import time_ordered_id
from ecrm.errors import Conflict, InvalidInput, NotFound

from tests.unit.cases.test_sla import at
from tests.unit.cases.world import AGENT, OTHER_AGENT, World, targets


@pytest.fixture
def world():
    return World()


def patch(version: int, **fields: object) -> CasePatch:
    return CasePatch.model_validate({"expected_version": version, **fields})


def note(body: str = "Looking into it", visibility: str = "internal", **fields: object) -> CommentRequest:
    return CommentRequest.model_validate({"body": body, "visibility": visibility, **fields})


def active_milestones(world: World, case_id: str) -> set[str]:
    return {t.payload["milestone"] for t in world.timers.for_case(case_id)}


def test_a_change_is_recorded_with_who_when_and_before_and_after(world):
    case = world.open(assignee_id="agent-1")
    world.advance(minutes=5)
    updated = world.work.update(case.id, patch(1, priority="high", assignee_id="agent-2", add_tags=["vip"]), AGENT)
    assert (updated.priority, updated.assignee_id, updated.tags, updated.version) == ("high", "agent-2", ["vip"], 2)
    entries = world.queries.history(case.id).items
    assert [(e.version, e.seq, e.actor, e.action, e.before, e.after) for e in entries[1:]] == [
        (2, 0, "agent-1", "priority_changed", {"priority": "normal"}, {"priority": "high"}),
        (2, 1, "agent-1", "assigned", {"assignee_id": "agent-1"}, {"assignee_id": "agent-2"}),
        (2, 2, "agent-1", "tags_changed", {"tags": []}, {"tags": ["vip"]}),
    ]
    assert entries[1].at == world.clock.now()
    assert world.bus.events[-1].changed == ["priority", "assignee_id", "tags"]


def test_an_edit_on_a_stale_copy_is_refused_and_writes_nothing(world):
    case = world.open()
    world.work.update(case.id, patch(1, priority="high"), AGENT)
    writes, history = world.repo.writes, list(world.repo.audit[case.id])
    with pytest.raises(Conflict, match="version 2, not 1"):
        world.work.update(case.id, patch(1, priority="low"), OTHER_AGENT)
    assert world.repo.writes == writes and world.repo.audit[case.id] == history
    assert world.case(case.id).priority == "high"


def test_a_concurrent_edit_gets_409_and_the_winner_s_change_is_kept_whole(world):
    case = world.open()
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.work.update(case.id, patch(1, priority="urgent"), OTHER_AGENT)
    with pytest.raises(Conflict):
        world.work.update(case.id, patch(1, assignee_id="agent-1", priority="low"), AGENT)
    stored = world.case(case.id)
    assert (stored.priority, stored.assignee_id, stored.version) == ("urgent", None, 2)
    assert [(e.actor, e.action) for e in world.repo.audit[case.id]] == [
        ("agent-1", "created"),
        ("agent-2", "priority_changed"),
    ]
    # The winner's timers stand: the loser set and cancelled nothing.
    assert {t.payload["generation"] for t in world.timers.for_case(case.id)} == {stored.sla.generation}


def test_concurrent_comments_without_a_version_both_land(world):
    case = world.open()
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.work.comment(case.id, note("from Bob"), OTHER_AGENT)
    world.work.comment(case.id, note("from Ann"), AGENT)
    bodies = [c.body for c in world.queries.comments(case.id).items]
    assert sorted(bodies) == ["from Ann", "from Bob"] and world.case(case.id).version == 3


def test_comments_read_back_in_the_order_they_were_made(world):
    case = world.open()
    for body in ("first", "second", "third"):
        world.work.comment(case.id, note(body), AGENT)
        world.advance(seconds=1)
    page = world.queries.comments(case.id, limit=2)
    rest = world.queries.comments(case.id, limit=2, cursor=page.next_cursor)
    assert [c.body for c in page.items + rest.items] == ["first", "second", "third"]
    assert rest.next_cursor is None


def test_comment_ids_sort_by_time_whatever_their_random_part():
    early = time_ordered_id(at(1, 9), "f" * 32)
    late = time_ordered_id(at(1, 9) + timedelta(milliseconds=1), "0" * 32)
    assert early < late and len(early) == len(late) == 32


def test_a_first_public_reply_meets_the_first_response_and_opens_the_case(world):
    case = world.open()
    world.advance(minutes=20)
    world.work.comment(case.id, note("internal first"), AGENT)
    assert active_milestones(world, case.id) == {"first_response", "resolution"}  # notes do not count
    calls = len(world.timers.calls)
    world.work.comment(case.id, note("We are on it", "public"), AGENT)
    answered = world.case(case.id)
    assert answered.status == "open" and answered.first_response_at == world.clock.now()
    assert answered.sla.clocks["first_response"].consumed.total_seconds() == 20 * 60
    assert active_milestones(world, case.id) == {"resolution"}
    assert len(world.timers.calls) > calls
    assert world.bus.types()[-2:] == ["CaseCommented.v1", "CaseUpdated.v1"]


def test_an_internal_note_touches_no_timer(world):
    case = world.open()
    calls = list(world.timers.calls)
    world.work.comment(case.id, note(), AGENT)
    assert world.timers.calls == calls
    assert world.case(case.id).first_response_at is None


def test_pending_cancels_the_timers_and_open_sets_them_again_for_the_time_left(world):
    case = world.open()  # Monday 09:00, first response due 10:00
    world.advance(minutes=30)
    world.work.update(case.id, patch(1, status="pending"), AGENT)
    assert world.timers.for_case(case.id) == [] and world.case(case.id).next_deadline is None
    world.advance(hours=24)  # Tuesday 09:30
    world.work.update(case.id, patch(2, status="open"), AGENT)
    assert world.case(case.id).next_deadline == at(2, 10)  # the 30 minutes it had left
    assert world.fire_due() == []


def test_moves_the_status_machine_does_not_allow_are_refused_naming_the_field(world):
    case = world.open()
    world.work.solve(case.id, AGENT)
    world.work.update(case.id, patch(2, status="closed"), AGENT)
    writes = world.repo.writes
    with pytest.raises(InvalidInput) as info:
        world.work.update(case.id, patch(3, status="open"), AGENT)
    assert (info.value.field, info.value.status) == ("status", 409)
    with pytest.raises(InvalidInput, match="internal notes only"):
        world.work.comment(case.id, note("hello?", "public"), AGENT)
    assert world.repo.writes == writes


def test_a_patch_that_changes_nothing_writes_nothing(world):
    case = world.open(priority="high")
    assert world.work.update(case.id, patch(1, priority="high"), AGENT).version == 1
    assert world.repo.writes == 1


def test_solve_stops_every_timer_and_reopen_gives_fresh_ones_without_escalating(world):
    case = world.open(assignee_id="agent-1")
    stale = world.timers.for_case(case.id)[-1].payload  # first cycle's resolution level 3
    world.advance(hours=9)  # Monday 18:00: both milestones breached, every level applied
    assert "applied" in world.fire_due()
    breached = world.case(case.id)
    assert breached.escalation_level == 3 and breached.in_breach
    world.work.solve(case.id, AGENT)
    assert world.timers.for_case(case.id) == [] and world.case(case.id).solved_at == world.clock.now()
    world.advance(days=2)  # Wednesday 18:00
    reopened = world.work.reopen(case.id, AGENT)
    assert (reopened.status, reopened.escalation_level, reopened.in_breach) == ("open", 0, False)
    assert reopened.sla.clocks["resolution"].cycle == 2
    assert world.fire_due() == []  # nothing is due the moment it reopens
    assert min(t.at for t in world.timers.for_case(case.id)) > world.clock.now()
    assert world.firing.on_timer(stale) == "stale"  # a timer of the first cycle does nothing
    assert world.case(case.id).version == reopened.version


def test_reopen_only_from_solved_and_unknown_cases_are_not_found(world):
    case = world.open()
    with pytest.raises(InvalidInput, match="only a solved case"):
        world.work.reopen(case.id, AGENT)
    with pytest.raises(NotFound):
        world.work.solve("0" * 32, AGENT)


def test_after_a_policy_edit_recompute_sets_a_new_plan_and_old_timers_go_stale(world):
    case = world.open()  # first response due 10:00 under the old policy
    old = next(t.payload for t in world.timers.for_case(case.id) if t.payload["step"] == 1)
    edited = world.writer.book.policies[0].model_copy(update={"targets": {"normal": targets(2, 8)}})
    world.books.book = PolicyBook(policies=(edited, *world.writer.book.policies[1:]))
    renewed = world.work.recompute(case.id)
    assert renewed.next_deadline == at(1, 11) and renewed.sla.generation != case.sla.generation
    assert {t.payload["generation"] for t in world.timers.for_case(case.id)} == {renewed.sla.generation}
    assert world.repo.audit[case.id][-1].action == "sla_recomputed"
    world.clock.at = at(1, 10)
    assert world.firing.on_timer(old) == "stale" and world.case(case.id).escalation_level == 0
