"""integration: a journey under moto, end to end through the shipped functions.

A marketer saves and starts a journey over the API; a captured contact enters on the bus event,
gets the welcome mail, waits on a real Scheduler timer (the clock moved on), is branched on
whether they opened it (SES's Open event on the default bus), tagged through the contacts' own
update, and leaves by a goal (the shop's order) with the conversion counted on their branch.
Duplicate events and timers change nothing; a bad definition is refused with its path and
writes nothing; pause holds, resume releases; an erasure forgets the contact's progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ecrm.events import ContactCaptured
from ecrm.journeys.names import Env
from ecrm.loyalty.shop import OrderPlaced

from tests.integration.campaigns_support import Campaigns, campaigns_stack

DAY = 86_400


@pytest.fixture(scope="module")
def world() -> Iterator[Campaigns]:
    with campaigns_stack() as campaigns:
        yield campaigns


def definition(template_id: str, tag: str = "trial", **changes: Any) -> dict[str, Any]:
    """Each test's journey lets in contacts captured with its own tag: the stack is shared."""
    body: dict[str, Any] = {
        "name": "Trial welcome",
        "time_zone": "Europe/Paris",
        "entry": {"event": "ContactCaptured.v1", "filter": {"tags": tag}},
        "goals": [{"event": "OrderPlaced.v1"}],
        "steps": [
            {"id": "welcome", "type": "send_mail", "template_id": template_id, "topic": "newsletter"},
            {"id": "pause", "type": "wait", "duration": {"days": 2}},
            {
                "id": "opened",
                "type": "branch",
                "cases": [{"if": {"opened": "welcome"}, "next": "engaged"}],
                "else": "nudge",
            },
            {"id": "engaged", "type": "tag", "add": ["engaged"], "next": "done"},
            {"id": "nudge", "type": "send_mail", "template_id": template_id, "topic": "newsletter"},
            {"id": "done", "type": "exit"},
        ],
    }
    return body | changes


def save_and_start(world: Campaigns, body: dict[str, Any]) -> str:
    created = world.stack.call("POST", "/journeys", {"definition": body}, roles="marketer")
    assert created.status == 201, created.body
    journey_id = str(created.json["journey"]["id"])
    started = world.stack.call("POST", f"/journeys/{journey_id}/start", roles="marketer")
    assert started.status == 200 and started.json["status"] == "live", started.body
    return journey_id


def stats(world: Campaigns, journey_id: str) -> dict[str, Any]:
    answer = world.stack.call("GET", f"/journeys/{journey_id}/stats", roles="marketer")
    assert answer.status == 200, answer.body
    found: dict[str, Any] = answer.json
    return found


def step(found: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in found["steps"] if s["step"] == step_id)


def capture(world: Campaigns, n: int, tags: tuple[str, ...]) -> Any:
    contact = world.contact(n, tags=tags, announce=False)
    world.publish(ContactCaptured(occurred_at=datetime.now(UTC), contact_id=contact.id, tags=list(tags)))
    return contact


def test_a_contact_walks_the_journey_once_through_timers_opens_and_a_goal(world: Campaigns) -> None:
    journey_id = save_and_start(world, definition(world.template()))
    opener, other = capture(world, 101, ("trial",)), capture(world, 102, ("trial",))
    world.pump()
    assert [len(world.mail(c.email)) for c in (opener, other)] == [1, 1]

    # the same events again (a publisher's retry gets a new bus id): nothing more
    for contact in (opener, other):
        world.publish(ContactCaptured(occurred_at=datetime.now(UTC), contact_id=contact.id, tags=["trial"]))
    world.pump()
    assert [len(world.mail(c.email)) for c in (opener, other)] == [1, 1]

    world.mail_events.engage(world.mail(opener.email)[0]["message_id"], "Open")
    world.pump()
    world.advance(2 * DAY + 60)
    world.pump()
    assert len(world.mail(opener.email)) == 1  # opened: tagged, no nudge
    assert "engaged" in world.contacts.get(opener.id).tags  # type: ignore[union-attr]
    assert len(world.mail(other.email)) == 2  # the nudge
    assert "engaged" not in world.contacts.get(other.id).tags  # type: ignore[union-attr]

    found = stats(world, journey_id)
    assert (found["entered"], found["completed"]) == (2, 2)
    assert step(found, "welcome")["mails_sent"] == 2 and step(found, "welcome")["opened"] == 1
    assert step(found, "pause")["completed"] == 2 and step(found, "pause")["waiting"] == 0
    assert step(found, "nudge")["mails_sent"] == 1
    taken = {c["choice"]: c["taken"] for c in found["choices"] if c["step"] == "opened"}
    assert taken == {"case-1": 1, "else": 1}


def test_a_goal_ends_the_journey_early_and_counts_as_a_conversion(world: Campaigns) -> None:
    journey_id = save_and_start(world, definition(world.template(), "goal", name="Goal"))
    buyer = capture(world, 103, ("goal",))
    world.pump()
    order = OrderPlaced(
        order_id="J-1",
        contact_id=buyer.id,
        total={"amount_minor": 100, "currency": "EUR"},
        lines=[{"sku": "A", "category": "c", "quantity": 1, "amount_minor": 100}],
        placed_at=datetime.now(UTC),
    )
    world.publish(order)
    world.publish(order)  # twice: one conversion
    world.pump()
    world.advance(2 * DAY + 60)
    world.pump()
    assert len(world.mail(buyer.email)) == 1  # the welcome only: they left before the nudge
    found = stats(world, journey_id)
    assert (found["exited_by_goal"], found["conversion_rate"]) == (1, 1.0)
    assert step(found, "pause")["exited_by_goal"] == 1


def test_a_bad_definition_is_refused_with_its_path_and_nothing_is_written(world: Campaigns) -> None:
    before = len(world.stack.table_items(Env.JOURNEYS_TABLE))
    cases = {
        "definition.steps.0.send_mail.template_id": definition("0" * 32),
        "definition.steps.2.branch.cases.0.if.field": definition(
            world.template(),
            steps=[
                {"id": "a", "type": "wait", "duration": {"hours": 1}},
                {"id": "b", "type": "exit"},
                {
                    "id": "c",
                    "type": "branch",
                    "cases": [{"if": {"field": "contact.shoe_size", "value": "42"}, "next": "b"}],
                },
            ],
        ),
    }
    for path, body in cases.items():
        answer = world.stack.call("POST", "/journeys", {"definition": body}, roles="marketer")
        assert answer.status == 422, answer.body
        assert path in answer.body, (path, answer.body)
    assert len(world.stack.table_items(Env.JOURNEYS_TABLE)) == before


def test_pause_holds_contacts_whose_wait_ends_and_resume_moves_them_on(world: Campaigns) -> None:
    journey_id = save_and_start(world, definition(world.template(), "paused", name="Paused"))
    held = capture(world, 104, ("paused",))
    world.pump()
    assert world.stack.call("POST", f"/journeys/{journey_id}/pause", roles="marketer").status == 200
    world.advance(2 * DAY + 60)
    world.pump()
    assert len(world.mail(held.email)) == 1
    progress = world.stack.call("GET", f"/contacts/{held.id}/journeys", roles="agent").json["journeys"]
    assert [p["status"] for p in progress if p["journey_id"] == journey_id] == ["held"]
    assert world.stack.call("POST", f"/journeys/{journey_id}/resume", roles="marketer").status == 200
    world.pump()
    assert len(world.mail(held.email)) == 2  # the nudge, once
    stale = world.stack.call("POST", f"/journeys/{journey_id}/stop", {"expected_revision": 1}, roles="marketer")
    assert stale.status == 409, stale.body  # started, paused and resumed since revision 1
    assert world.stack.call("POST", f"/journeys/{journey_id}/stop", roles="marketer").json["status"] == "stopped"
    refused = world.stack.call("POST", f"/journeys/{journey_id}/resume", roles="marketer")
    assert refused.status == 409, refused.body  # stopped is for good
