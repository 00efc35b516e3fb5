"""A bad journey definition is refused with the JSON path of what is wrong, so an editor can point at it."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm.api import field_errors
from ecrm.errors import InvalidInput
from ecrm.journeys.definitions import check
from ecrm.journeys.models import Definition, JourneyCreate
from pydantic import ValidationError

from tests.unit.journeys.fakes import TEMPLATE, known

MAIL = {"type": "send_mail", "template_id": TEMPLATE, "topic": "news"}
WAIT = {"type": "wait", "duration": {"days": 1}}


def definition(steps: list[dict[str, Any]], **top: Any) -> Definition:
    raw = {"name": "welcome", "entry": {"event": "ContactCaptured.v1"}, "steps": steps} | top
    return Definition.model_validate(raw)


def refused(d: Definition) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check(d, known())
    assert caught.value.status == 422
    return caught.value


def test_a_welcome_series_passes() -> None:
    check(
        definition(
            [
                {"id": "hello", **MAIL},
                {"id": "pause", **WAIT},
                {"id": "opened", "type": "branch", "cases": [{"if": {"opened": "hello"}, "next": "thanks"}]},
                {"id": "again", **MAIL, "next": "end"},
                {"id": "thanks", "type": "tag", "add": ["engaged"]},
                {"id": "end", "type": "exit"},
            ],
            goals=[{"event": "OrderPlaced.v1"}],
            time_zone="Europe/Paris",
        ),
        known(),
    )


def test_a_loop_that_waits_is_accepted() -> None:
    check(definition([{"id": "nudge", **MAIL}, {"id": "pause", **WAIT, "next": "nudge"}]), known())


@pytest.mark.parametrize(
    ("steps", "top", "path"),
    [
        pytest.param(
            [{"id": "a", **MAIL}, {"id": "b", **MAIL, "template_id": "b" * 32}],
            {},
            "definition.steps.1.template_id",
            id="unknown template",
        ),
        pytest.param(
            [{"id": "a", **MAIL}, {"id": "b", **MAIL, "topic": "gossip"}],
            {},
            "definition.steps.1.topic",
            id="unknown topic",
        ),
        pytest.param(
            [{"id": "a", **MAIL, "next": "c"}, {"id": "b", **MAIL}, {"id": "c", "type": "exit"}],
            {},
            "definition.steps.1",
            id="unreachable step",
        ),
        pytest.param(
            [{"id": "a", "type": "exit"}, {"id": "b", **MAIL}], {}, "definition.steps.1", id="a step after an exit"
        ),
        pytest.param(
            [{"id": "a", "type": "tag", "add": ["x"]}, {"id": "b", **MAIL, "next": "a"}],
            {},
            "definition.steps.1.next",
            id="a cycle without a wait",
        ),
        pytest.param(
            [
                {"id": "a", **MAIL},
                {
                    "id": "b",
                    "type": "branch",
                    "cases": [{"if": {"tag": "x"}, "next": "c"}, {"if": {"tag": "y"}, "next": "a"}],
                },
                {"id": "c", "type": "exit"},
            ],
            {},
            "definition.steps.1.cases.1.next",
            id="a branch's cycle without a wait",
        ),
        pytest.param(
            [
                {
                    "id": "a",
                    "type": "branch",
                    "cases": [
                        {"if": {"tag": "x"}, "next": "b"},
                        {"if": {"field": "contact.shoe_size", "value": "42"}, "next": "b"},
                    ],
                },
                {"id": "b", **MAIL},
            ],
            {},
            "definition.steps.0.cases.1.if.field",
            id="a branch on an unknown field",
        ),
        pytest.param(
            [{"id": "a", "type": "branch", "cases": [{"if": {"opened": "b"}, "next": "b"}]}, {"id": "b", **WAIT}],
            {},
            "definition.steps.0.cases.0.if.opened",
            id="opened names a step that sends no mail",
        ),
        pytest.param(
            [
                {"id": "a", "type": "branch", "cases": [{"if": {"happened": "Sunrise"}, "next": "b"}]},
                {"id": "b", **MAIL},
            ],
            {},
            "definition.steps.0.cases.0.if.happened",
            id="happened names an event journeys do not hear",
        ),
        pytest.param([{"id": "a", **MAIL, "next": "nowhere"}], {}, "definition.steps.0.next", id="unknown next"),
        pytest.param(
            [
                {
                    "id": "a",
                    "type": "wait_for_event",
                    "event": {"event": "OrderPlaced.v1"},
                    "timeout": {"days": 2},
                    "on_timeout": "zz",
                },
                {"id": "b", **MAIL},
            ],
            {},
            "definition.steps.0.on_timeout",
            id="unknown on_timeout",
        ),
        pytest.param(
            [
                {
                    "id": "a",
                    "type": "split",
                    "arms": [{"name": "A", "weight": 1, "next": "b"}, {"name": "B", "weight": 1, "next": "q"}],
                },
                {"id": "b", **MAIL},
            ],
            {},
            "definition.steps.0.arms.1.next",
            id="unknown arm target",
        ),
        pytest.param([{"id": "a", **MAIL}, {"id": "a", **WAIT}], {}, "definition.steps.1.id", id="duplicate id"),
        pytest.param(
            [{"id": "a", **MAIL}], {"entry": {"event": "Sunrise"}}, "definition.entry.event", id="unknown entry event"
        ),
        pytest.param(
            [{"id": "a", **MAIL}],
            {"goals": [{"event": "OrderPlaced.v1"}, {"event": "Sunset"}]},
            "definition.goals.1.event",
            id="unknown goal event",
        ),
        pytest.param(
            [
                {
                    "id": "a",
                    "type": "wait_for_event",
                    "event": {"event": "Sunset"},
                    "timeout": {"days": 2},
                    "on_timeout": "b",
                },
                {"id": "b", **MAIL},
            ],
            {},
            "definition.steps.0.event.event",
            id="unknown event to wait for",
        ),
        pytest.param([{"id": "a", **MAIL}], {"time_zone": "Mars/Olympus"}, "definition.time_zone", id="bad time zone"),
        pytest.param(
            [{"id": "a", **MAIL}], {"time_zone": "EST"}, "definition.time_zone", id="an abbreviation, not a zone"
        ),
        pytest.param(
            [{"id": "a", **MAIL}, {"id": "b", "type": "set_field", "field": "contact.email", "value": "x@example.com"}],
            {},
            "definition.steps.1.field",
            id="set_field on a field it cannot write",
        ),
    ],
)
def test_a_bad_definition_is_refused_with_its_path(steps: list[dict[str, Any]], top: dict[str, Any], path: str) -> None:
    assert refused(definition(steps, **top)).field == typed(path, steps)


def typed(path: str, steps: list[dict[str, Any]]) -> str:
    """A part of a step is named below its type, as pydantic names it: `definition.steps.1.send_mail.topic`."""
    parts = path.split(".")
    if len(parts) > 3 and parts[1] == "steps":
        parts.insert(3, steps[int(parts[2])]["type"])
    return ".".join(parts)


def test_the_first_problem_is_the_one_named() -> None:
    bad = definition([{"id": "a", **MAIL, "template_id": "c" * 32}, {"id": "b", **MAIL, "topic": "gossip"}])
    assert refused(bad).field == "definition.steps.0.send_mail.template_id"


def test_set_field_writes_the_company_or_a_custom_field() -> None:
    for field in ("contact.company", "contact.custom.plan"):
        check(definition([{"id": "a", "type": "set_field", "field": field, "value": "x"}]), known())


def test_templates_are_looked_up_once_for_all_steps() -> None:
    asked: list[set[str]] = []
    lookup = known()

    def templates(ids: Any) -> Any:
        asked.append(set(ids))
        return lookup.templates(ids)

    check(
        definition([{"id": "a", **MAIL}, {"id": "b", **MAIL}]), type(lookup)(templates=templates, topics=lookup.topics)
    )
    assert asked == [{TEMPLATE}]


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        pytest.param(
            [{"id": "a", "type": "wait", "duration": {}}], "definition.steps.0.wait.duration", id="a wait of nothing"
        ),
        pytest.param(
            [{"id": "a", "type": "wait", "duration": {"days": 400}}],
            "definition.steps.0.wait.duration.days",
            id="too long a wait",
        ),
        pytest.param([{"id": "A b", **MAIL}], "definition.steps.0.send_mail.id", id="a step id with a space"),
        pytest.param([{"id": "a", "type": "teleport"}], "definition.steps.0", id="an unknown step type"),
        pytest.param([{"id": "a", "type": "tag"}], "definition.steps.0.tag", id="a tag step that does nothing"),
        pytest.param(
            [{"id": "a", "type": "tag", "add": ["x"], "remove": ["x"]}],
            "definition.steps.0.tag",
            id="add and remove one tag",
        ),
        pytest.param(
            [
                {
                    "id": "a",
                    "type": "branch",
                    "cases": [{"if": {"field": "contact.company", "op": "in", "value": "x"}, "next": "a"}],
                }
            ],
            "definition.steps.0.branch.cases.0.if",
            id="in without a list",
        ),
        pytest.param([{"id": "a", **MAIL, "sender": "me"}], "definition.steps.0.send_mail.sender", id="an unknown key"),
        pytest.param(
            [{"id": "a", "type": "wait_until", "weekdays": ["mon"], "at": "09:00+02:00"}],
            "definition.steps.0.wait_until.at",
            id="a time of day with a zone",
        ),
    ],
)
def test_a_malformed_definition_names_the_field(steps: list[dict[str, Any]], field: str) -> None:
    raw = {"definition": {"name": "welcome", "entry": {"event": "ContactCaptured.v1"}, "steps": steps}}
    with pytest.raises(ValidationError) as caught:
        JourneyCreate.model_validate(raw)
    fields = [e["field"] for e in field_errors(caught.value.errors())]
    assert any(f.startswith(field) for f in fields), fields


def test_more_than_fifty_steps_are_refused() -> None:
    steps = [{"id": f"s{i}", **MAIL} for i in range(51)]
    with pytest.raises(ValidationError) as caught:
        definition(steps)
    assert [e["field"] for e in field_errors(caught.value.errors())] == ["steps"]
