"""The checks a journey definition passes before it is saved, beyond its model's: every step
reachable, every reference a step, no cycle a contact could run round without waiting, templates
and topics that exist, events the journeys hear, fields a branch can read.

The first problem found is refused (422) with the JSON path of the offending part:
`definition.steps.3.cases.0.if.field`, so an editor can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from ecrm.errors import InvalidInput
from ecrm.journeys import catalogue
from ecrm.journeys.models import (
    WAITS,
    Branch,
    Clicked,
    Condition,
    Definition,
    Exit,
    FieldTest,
    HadEvent,
    Opened,
    SendMail,
    SetField,
    Split,
    Step,
    WaitForEvent,
)
from ecrm.journeys.waits import valid_zone
from ecrm.types import CUSTOM_KEY

ROOT = "definition"

# What a branch can read, as the contact is when the step runs. `contact.custom.<key>` is any of
# the contact's custom fields. Computed attributes (RFM, lifetime value) join when insights land.
FIELDS = frozenset(
    {
        "contact.first_name",
        "contact.last_name",
        "contact.company",
        "contact.phone",
        "contact.consent",
        "loyalty.tier",
    }
)
CUSTOM = "contact.custom."
_KEY = re.compile(CUSTOM_KEY)
# What a set_field step may write: the company, or a custom field.
SETTABLE = frozenset({"contact.company"})


def readable(field: str) -> bool:
    return field in FIELDS or _custom_key(field)


def settable(field: str) -> bool:
    return field in SETTABLE or _custom_key(field)


def _custom_key(field: str) -> bool:
    key = field.removeprefix(CUSTOM)
    return (
        field.startswith(CUSTOM)
        and 0 < len(key) <= 40
        and key[0].isalpha()
        and key.replace("_", "a").isalnum()
        and key.islower()
    )


def successors(definition: Definition, index: int) -> list[tuple[str, str]]:
    """(path below the step, step id) of each step this one can go on to."""
    step = definition.steps[index]
    if isinstance(step, Exit):
        return []
    if isinstance(step, Split):
        return [(f"arms.{i}.next", arm.next) for i, arm in enumerate(step.arms)]
    if isinstance(step, Branch):
        cases = [(f"cases.{i}.next", case.next) for i, case in enumerate(step.cases)]
        return cases + _then(definition, index, "else", step.else_)
    timeout = [("on_timeout", step.on_timeout)] if isinstance(step, WaitForEvent) else []
    return timeout + _then(definition, index, "next", step.next)


def _then(definition: Definition, index: int, below: str, explicit: str | None) -> list[tuple[str, str]]:
    """The explicit successor, else the step after this one in the list, else none (the end)."""
    if explicit is not None:
        return [(below, explicit)]
    return [(below, definition.steps[index + 1].id)] if index + 1 < len(definition.steps) else []


def next_of(definition: Definition, step_id: str) -> str | None:
    """Where a plain step goes: its `next`, else the step after it, else nowhere (the end)."""
    index = index_of(definition, step_id)
    step = definition.steps[index]
    if isinstance(step, Exit):
        return None
    if step.next is not None:
        return step.next
    return definition.steps[index + 1].id if index + 1 < len(definition.steps) else None


def index_of(definition: Definition, step_id: str) -> int:
    for i, step in enumerate(definition.steps):
        if step.id == step_id:
            return i
    raise KeyError(step_id)


def step_of(definition: Definition, step_id: str) -> Step:
    return definition.steps[index_of(definition, step_id)]


def has_step(definition: Definition, step_id: str) -> bool:
    return any(step.id == step_id for step in definition.steps)


@dataclass(frozen=True)
class Known:
    """What exists outside the definition: templates (by id, looked up in one read) and topics."""

    templates: Callable[[Collection[str]], Collection[str]]  # the ids that exist among those given
    topics: Collection[str]


def _at(definition: Definition, index: int) -> str:
    """A step's path as pydantic names it too: `definition.steps.2.branch` (its index, its type)."""
    return f"{ROOT}.steps.{index}.{definition.steps[index].type}"


def check(definition: Definition, known: Known) -> None:
    """InvalidInput (422) naming the first offending part's path; None when the journey may be saved."""
    for path, message in problems(definition, known):
        raise InvalidInput(path, message, status=422)


def problems(definition: Definition, known: Known) -> Iterator[tuple[str, str]]:
    if not valid_zone(definition.time_zone):
        yield f"{ROOT}.time_zone", "not an IANA time zone (Europe/Paris, America/New_York, UTC)"
    yield from _events(definition)
    ids: dict[str, int] = {}
    for i, step in enumerate(definition.steps):
        if step.id in ids:
            yield f"{_at(definition, i)}.id", f"step id {step.id!r} is used twice"
        ids.setdefault(step.id, i)
    for i in range(len(definition.steps)):
        for below, target in successors(definition, i):
            if target not in ids:
                yield f"{_at(definition, i)}.{below}", f"no step has the id {target!r}"
    yield from _conditions(definition, ids)
    yield from _writes(definition, known)
    yield from _reachable(definition, ids)
    yield from _cycles(definition, ids)


def _events(definition: Definition) -> Iterator[tuple[str, str]]:
    heard = f"one of {', '.join(sorted(catalogue.BY_TYPE))}"
    if definition.entry.event not in catalogue.BY_TYPE:
        yield f"{ROOT}.entry.event", f"not an event journeys hear; {heard}"
    for i, goal in enumerate(definition.goals):
        if goal.event not in catalogue.BY_TYPE:
            yield f"{ROOT}.goals.{i}.event", f"not an event journeys hear; {heard}"
    for i, step in enumerate(definition.steps):
        if isinstance(step, WaitForEvent) and step.event.event not in catalogue.BY_TYPE:
            yield f"{_at(definition, i)}.event.event", f"not an event journeys hear; {heard}"


def _conditions(definition: Definition, ids: dict[str, int]) -> Iterator[tuple[str, str]]:
    for i, step in enumerate(definition.steps):
        if not isinstance(step, Branch):
            continue
        for j, case in enumerate(step.cases):
            path = f"{_at(definition, i)}.cases.{j}.if"
            yield from _condition(definition, ids, case.if_, path)


def _condition(
    definition: Definition, ids: dict[str, int], condition: Condition, path: str
) -> Iterator[tuple[str, str]]:
    if isinstance(condition, FieldTest) and not readable(condition.field):
        known = ", ".join(sorted(FIELDS))
        yield f"{path}.field", f"not a field a branch can read; one of {known}, or contact.custom.<key>"
    elif isinstance(condition, HadEvent) and condition.happened not in catalogue.BY_TYPE:
        yield f"{path}.happened", "not an event journeys hear"
    elif isinstance(condition, Opened | Clicked):
        target = condition.opened if isinstance(condition, Opened) else condition.clicked
        kind = "opened" if isinstance(condition, Opened) else "clicked"
        if target not in ids or not isinstance(definition.steps[ids[target]], SendMail):
            yield f"{path}.{kind}", f"{target!r} is not a send_mail step of this journey"


def _writes(definition: Definition, known: Known) -> Iterator[tuple[str, str]]:
    mails = [(i, s) for i, s in enumerate(definition.steps) if isinstance(s, SendMail)]
    existing = set(known.templates({s.template_id for _, s in mails})) if mails else set()
    for i, step in mails:
        if step.template_id not in existing:
            yield f"{_at(definition, i)}.template_id", "no template has this id"
        if step.topic not in known.topics:
            yield f"{_at(definition, i)}.topic", f"not a campaign topic; one of {', '.join(sorted(known.topics))}"
    for i, any_step in enumerate(definition.steps):
        if isinstance(any_step, SetField) and not settable(any_step.field):
            yield f"{_at(definition, i)}.field", "a set_field step writes contact.company or contact.custom.<key>"


def _reachable(definition: Definition, ids: dict[str, int]) -> Iterator[tuple[str, str]]:
    seen = {0}
    todo = [0]
    while todo:
        for _, target in successors(definition, todo.pop()):
            index = ids.get(target)
            if index is not None and index not in seen:
                seen.add(index)
                todo.append(index)
    for i in range(len(definition.steps)):
        if i not in seen:
            yield f"{ROOT}.steps.{i}", f"step {definition.steps[i].id!r} cannot be reached from the first step"


def _cycles(definition: Definition, ids: dict[str, int]) -> Iterator[tuple[str, str]]:
    """A loop is fine when it waits somewhere; one without a wait would run a contact round it
    forever in one go (and send a mail each time round)."""
    search = _LoopSearch(definition, ids)
    for start, step in enumerate(definition.steps):
        if step.type not in WAITS and start not in search.done and (found := search.visit(start)) is not None:
            yield found
            return


class _LoopSearch:
    """Depth-first over the edges from a step that does not wait to another that does not."""

    def __init__(self, definition: Definition, ids: dict[str, int]) -> None:
        self._definition = definition
        self._ids = ids
        self._on_path: set[int] = set()
        self.done: set[int] = set()

    def _instant(self, target: str) -> int | None:
        index = self._ids.get(target)
        return None if index is None or self._definition.steps[index].type in WAITS else index

    def visit(self, index: int) -> tuple[str, str] | None:
        self._on_path.add(index)
        for below, target in successors(self._definition, index):
            nxt = self._instant(target)
            if nxt is None or nxt in self.done:
                continue
            if nxt in self._on_path:
                return (
                    f"{_at(self._definition, index)}.{below}",
                    f"goes back to {target!r} with no wait on the way: a loop needs one",
                )
            if (found := self.visit(nxt)) is not None:
                return found
        self._on_path.discard(index)
        self.done.add(index)
        return None
