"""unit: new cases from the public form, agents and the intake queue (idempotent per message)."""

import pytest
from ecrm.cases.models import CaseRequest, IntakeMessage

from tests.unit.cases.world import World

FORM = {"email": "Ann@Example.com", "subject": "Cannot log in", "description": "Since Monday.", "tags": "login"}
MESSAGE = {
    "channel": "email",
    "message_id": "<m-1@mail.example.com>",
    "requester": {"email": "bob@example.com", "first_name": "Bob"},
    "subject": "Invoice wrong",
    "description": "Charged twice",
    "priority": "high",
}


@pytest.fixture
def world():
    return World()


def test_a_form_post_opens_a_case_for_the_contact_with_that_address(world):
    receipt = world.intake.submit_form(CaseRequest.model_validate(FORM))
    again = world.intake.submit_form(CaseRequest.model_validate({**FORM, "email": "ann@example.com"}))
    first, second = world.case(receipt.id), world.case(again.id)
    assert receipt.created and first.id != second.id
    assert first.requester_id == second.requester_id  # one contact per address
    assert world.requesters.get(first.requester_id).email == "ann@example.com"
    assert (first.status, first.channel, first.priority, first.tags, first.version) == (
        "new",
        "web",
        "normal",
        ["login"],
        1,
    )
    assert [(e.actor, e.action) for e in world.repo.audit[first.id]] == [("requester", "created")]
    assert len(world.timers.for_case(first.id)) == 8  # warning + 3 levels, for two milestones
    assert world.bus.types() == ["CaseCreated.v1", "CaseCreated.v1"]
    assert "@" not in world.bus.events[0].model_dump_json()  # no personal data on the bus


def test_a_honeypot_post_answers_like_success_and_writes_nothing(world):
    receipt = world.intake.submit_form(CaseRequest.model_validate({**FORM, "website": "http://spam.example"}))
    assert receipt.created
    assert world.repo.writes == 0 and not world.timers.active and not world.bus.events and not world.requesters.people


def test_a_redelivered_channel_message_makes_no_second_case(world):
    msg = IntakeMessage.model_validate(MESSAGE)
    first = world.intake.receive(msg)
    timers = dict(world.timers.active)
    second = world.intake.receive(msg)
    assert first.created and not second.created and second.id == first.id
    assert world.repo.writes == 1 and len(world.repo.cases) == 1
    assert world.timers.active == timers  # set again, unchanged
    assert world.case(first.id).priority == "high" and world.case(first.id).channel == "email"
    assert [e.actor for e in world.repo.audit[first.id]] == ["channel:email"]


def test_two_deliveries_of_one_message_at_once_make_one_case(world):
    msg = IntakeMessage.model_validate(MESSAGE)
    twin = World(twin_of=world)
    world.repo.before_write = lambda: twin.intake.receive(msg)  # the twin writes first
    receipt = world.intake.receive(msg)
    assert not receipt.created
    assert list(world.repo.cases) == [receipt.id] and world.repo.writes == 1


def test_an_agent_opens_a_case_for_a_requester_and_its_team_policy_applies(world):
    case = world.open(team="billing", assignee_id="agent-2", priority="urgent")
    assert case.sla.policy_id == "billing-24x7"
    assert (case.team, case.assignee_id, case.channel) == ("billing", "agent-2", "agent")
    assert world.repo.audit[case.id][0].actor == "agent-1"
