"""integration: the Cases table adapter under moto: conditional writes map to domain errors and write
nothing, index keys follow the case's state, cursors only continue their own listing, windows bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from ecrm.cases import sla, workflow
from ecrm.cases.adapters.dynamo_cases import DynamoCases
from ecrm.cases.change import audit, finish
from ecrm.cases.models import Case, EscalationRecord
from ecrm.cases.policy import standard_book
from ecrm.cases.workflow import Ctx, NewCase
from ecrm.errors import AlreadyExists, Conflict, InvalidInput
from ecrm.outbox import Outbox

from tests.support import Stack

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
BOOK = standard_book()


def repo(stack: Stack) -> DynamoCases:
    return DynamoCases(boto3.client("dynamodb"), stack.env["CASES_TABLE_NAME"], Outbox(stack.env["OUTBOX_TABLE_NAME"]))


def new_case(n: int = 1, **fields: object) -> tuple[Case, list]:
    values: dict = {
        "subject": "s",
        "description": "d",
        "priority": "normal",
        "channel": "web",
        "requester_id": "a" * 32,
    }
    new = NewCase(**{**values, **fields})
    change = workflow.open_case(new, f"{n:032x}", "0000000a", Ctx(T0, "t", BOOK.select(None, [])))
    return sla.replan(None, change.case, BOOK, T0, "0000000a"), audit(change, 1, T0)


def items(stack: Stack) -> list[dict]:
    return stack.table_items("CASES_TABLE_NAME")


def test_a_taken_idempotency_key_or_id_refuses_the_whole_create(stack: Stack):
    cases = repo(stack)
    first, lines = new_case(1)
    cases.create(first, lines, idempotency_key="email#m1")
    before = items(stack)
    second, lines2 = new_case(2)
    with pytest.raises(AlreadyExists):
        cases.create(second, lines2, idempotency_key="email#m1")
    with pytest.raises(AlreadyExists):
        cases.create(first, lines)
    assert items(stack) == before
    assert cases.find_by_idempotency_key("email#m1") == first.id
    assert cases.cases_of_requester("a" * 32) == [first.id]


def test_a_save_at_a_stale_version_is_a_conflict_and_writes_nothing(stack: Stack):
    cases = repo(stack)
    case, lines = new_case()
    cases.create(case, lines)
    moved = finish(case.model_copy(update={"priority": "high"}), 2, T0)
    cases.save(moved, 1, [])
    before = items(stack)
    with pytest.raises(Conflict):
        cases.save(finish(case.model_copy(update={"priority": "low"}), 2, T0), 1, [])
    assert items(stack) == before and cases.get(case.id) == moved


def _record(case: Case, step: int) -> EscalationRecord:
    return EscalationRecord(
        case_id=case.id, milestone="first_response", cycle=1, step=step, due_at=T0, applied_at=T0, priority="normal"
    )


def test_an_escalation_record_that_exists_is_already_exists_not_a_conflict(stack: Stack):
    cases = repo(stack)
    case, lines = new_case()
    cases.create(case, lines)
    event = [workflow.created_event(case)]  # any event: it must commit with the write, or not at all
    cases.apply_escalation(finish(case, 2, T0), 1, [], [_record(case, 1)], events=event)
    before, announced = items(stack), stack.relay()
    with pytest.raises(AlreadyExists):  # the case is at the version read, but the step was applied
        cases.apply_escalation(finish(case, 3, T0), 2, [], [_record(case, 1)], events=event)
    with pytest.raises(Conflict):  # the case moved on
        cases.apply_escalation(finish(case, 3, T0), 1, [], [_record(case, 2)], events=event)
    assert items(stack) == before
    assert announced == 1 and stack.relay() == 0  # the refused writes put nothing in the outbox


def test_index_keys_follow_the_case_and_queues_only_hold_active_cases(stack: Stack):
    cases = repo(stack)
    case, lines = new_case(assignee_id="u1", team="billing")
    cases.create(case, lines)
    (stored,) = [i for i in items(stack) if i["sk"] == "CASE"]
    assert (stored["gsi1pk"], stored["gsi2pk"], stored["gsi4pk"]) == ("ASSIGNEE#u1", "TEAM#billing", "OPEN#normal")
    assert "gsi3pk" not in stored
    assert [c.id for c in cases.list_assigned("u1", 10, None)[0]] == [case.id]
    assert [c.id for c in cases.open_cases("normal", "billing", 10, None)[0]] == [case.id]
    assert cases.open_cases("normal", "bill", 10, None)[0] == []  # a team prefix is not a team
    solved = finish(case.model_copy(update={"status": "solved", "solved_at": T0 + timedelta(hours=1)}), 2, T0)
    cases.save(solved, 1, [])
    (stored,) = [i for i in items(stack) if i["sk"] == "CASE"]
    assert {k for k in stored if k.startswith("gsi")} == {"gsi4pk", "gsi4sk"} and stored["gsi4pk"] == "SOLVED#2026-06"
    assert cases.list_assigned("u1", 10, None)[0] == [] and cases.list_team("billing", 10, None)[0] == []


def test_cursors_continue_only_their_own_listing(stack: Stack):
    cases = repo(stack)
    for n in range(3):
        case, lines = new_case(n + 1, assignee_id="u1")
        cases.create(case, lines)
    page, cursor = cases.list_assigned("u1", 2, None)
    assert len(page) == 2 and cursor
    rest, last = cases.list_assigned("u1", 2, cursor)
    assert len(rest) == 1 and last is None
    for bad in (cursor + "x", "bm9wZQ==", "e30="):
        with pytest.raises(InvalidInput):
            cases.list_assigned("u2", 2, bad)
    with pytest.raises(InvalidInput):
        cases.history("1" * 32, 2, cursor)


def test_the_metrics_window_is_bounded_and_says_when_it_held_more(stack: Stack):
    cases = repo(stack)
    for n, hours in enumerate((1, 2, 3, 24 * 40)):
        case, lines = new_case(n + 1)
        cases.create(case, lines)
        solved_at = T0 + timedelta(hours=hours)
        cases.save(finish(case.model_copy(update={"status": "solved", "solved_at": solved_at}), 2, T0), 1, [])
    found, complete = cases.solved_between(T0, T0 + timedelta(days=60), 10)
    assert len(found) == 4 and complete  # across two monthly partitions
    found, complete = cases.solved_between(T0, T0 + timedelta(hours=3), 10)
    assert [c.solved_at for c in found] == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)] and complete
    found, complete = cases.solved_between(T0, T0 + timedelta(days=60), 2)
    assert len(found) == 2 and not complete
