"""A pure interpreter of a journey definition: what each contact should get, in the plainest terms.

It reads the definition models and `catalogue.matches` only; none of the runner. It knows no
storage, no seq, no timers, no retries: it takes the script of distinct deliveries in order
(events and the passing of time) and walks each contact through the steps, as the README says
a journey behaves:

- the entry event lets a contact in when its filter matches and they are not in the journey now
  (`once`: never again after their first entry);
- a contact in the journey who is named by a goal event leaves it (goals before anything else);
- `wait` ends when its time has passed; `wait_for_event` by its event, else by its timeout (then
  `on_timeout`); a wait that ends at an instant is over before any event at that instant;
- a branch takes its first case that holds (`opened` the mail of a step in this entry, a tag the
  contact has now, an event `happened` since this entry), else its `else`, else the next step;
- an A/B split sends a contact down the arm that the weights give for the hash of
  (journey, step, contact), the same every time;
- a send_mail step sends one mail; a tag step removes then adds tags.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ecrm.journeys import catalogue
from ecrm.journeys.models import (
    Branch,
    Definition,
    EventMatch,
    Exit,
    HadEvent,
    HasTag,
    Opened,
    SendMail,
    Split,
    Step,
    TagStep,
    Wait,
    WaitForEvent,
)

ENTERED, GOAL, OTHER, OPEN = "enter", "goal", "other", "open"


@dataclass(frozen=True)
class Event:
    """One delivery naming one contact: `kind` is ENTERED / GOAL / OTHER / OPEN (the contact
    opened the newest journey mail they were sent, if any)."""

    kind: str
    contact: int
    detail_type: str
    detail: dict[str, Any]
    id: str


@dataclass(frozen=True)
class Advance:
    minutes: int


Item = Event | Advance


@dataclass
class Walk:
    """One contact: where they are and what they have received."""

    tags: set[str]
    entries: int = 0
    step: str | None = None
    waiting_until: datetime | None = None
    waiting_for: EventMatch | None = None
    seen: set[str] = field(default_factory=set)
    mails: list[tuple[int, str]] = field(default_factory=list)  # (entry, step)

    @property
    def inside(self) -> bool:
        return self.waiting_until is not None


class Reference:
    def __init__(self, definition: Definition, journey_id: str, contact_ids: dict[int, str], start: datetime) -> None:
        self.definition = definition
        self.journey_id = journey_id
        self.contact_ids = contact_ids
        self.now = start
        self.steps = {s.id: s for s in definition.steps}
        self.order = [s.id for s in definition.steps]
        self.walks: dict[int, Walk] = {}

    def run(self, script: list[Item], tags: dict[int, set[str]]) -> dict[int, tuple[list[str], set[str]]]:
        self.walks = {c: Walk(set(t)) for c, t in tags.items()}
        for item in script:
            if isinstance(item, Advance):
                self._advance(self.now + timedelta(minutes=item.minutes))
            else:
                self._hear(self.walks[item.contact], item)
        return {c: ([step for _, step in w.mails], w.tags) for c, w in self.walks.items()}

    # -- time ----------------------------------------------------------------------------------
    def _advance(self, until: datetime) -> None:
        for contact, walk in self.walks.items():
            while walk.waiting_until is not None and walk.waiting_until <= until:
                self.now = walk.waiting_until
                step = self.steps[walk.step or ""]
                nxt = step.on_timeout if isinstance(step, WaitForEvent) else self._after(step)
                self._leave_wait(walk)
                self._walk(contact, walk, nxt)
        self.now = until

    # -- events --------------------------------------------------------------------------------
    def _hear(self, walk: Walk, event: Event) -> None:
        contact = event.contact
        if event.kind == OPEN:
            if walk.mails and walk.mails[-1][0] == walk.entries:
                walk.seen.add(f"opened:{walk.mails[-1][1]}")
            return
        was_inside = walk.inside
        if was_inside:
            if event.detail_type in self._asked():
                walk.seen.add(event.detail_type)
            if any(self._match(goal, event) for goal in self.definition.goals):
                self._leave_wait(walk)
                walk.step = None
            elif walk.waiting_for is not None and self._match(walk.waiting_for, event):
                nxt = self._after(self.steps[walk.step or ""])
                self._leave_wait(walk)
                self._walk(contact, walk, nxt)
        entry = self.definition.entry
        if not was_inside and self._match(entry, event) and not (entry.once and walk.entries > 0):
            walk.entries += 1
            walk.seen = set()
            self._walk(contact, walk, self.order[0])

    def _match(self, match: EventMatch, event: Event) -> bool:
        return match.event == event.detail_type and catalogue.matches(match.filter, event.detail)

    def _asked(self) -> set[str]:
        return {
            case.if_.happened
            for s in self.definition.steps
            if isinstance(s, Branch)
            for case in s.cases
            if isinstance(case.if_, HadEvent)
        }

    # -- steps ---------------------------------------------------------------------------------
    def _walk(self, contact: int, walk: Walk, step_id: str | None) -> None:
        """Run steps from `step_id` until the contact waits or the journey is over for them."""
        guard = 0
        while step_id is not None:
            guard += 1
            assert guard < 1000, "a loop without a wait got through the checks"
            step = self.steps[step_id]
            walk.step = step_id
            if isinstance(step, Wait | WaitForEvent):
                wait = step.duration if isinstance(step, Wait) else step.timeout
                walk.waiting_until = self.now + wait.delta
                walk.waiting_for = step.event if isinstance(step, WaitForEvent) else None
                return
            step_id = self._do(contact, walk, step)
        walk.step = None

    def _do(self, contact: int, walk: Walk, step: Step) -> str | None:
        if isinstance(step, Exit):
            return None
        if isinstance(step, SendMail):
            walk.mails.append((walk.entries, step.id))
        elif isinstance(step, TagStep):
            walk.tags = (walk.tags - set(step.remove)) | set(step.add)
        elif isinstance(step, Branch):
            for case in step.cases:
                if self._holds(case.if_, walk):
                    return case.next
            return step.else_ if step.else_ is not None else self._after(step)
        elif isinstance(step, Split):
            return self._arm(step, self.contact_ids[contact])
        return self._after(step)

    def _holds(self, condition: Any, walk: Walk) -> bool:
        if isinstance(condition, Opened):
            return f"opened:{condition.opened}" in walk.seen
        if isinstance(condition, HasTag):
            return condition.tag in walk.tags
        if isinstance(condition, HadEvent):
            return condition.happened in walk.seen
        raise AssertionError(f"the grammar makes no {condition!r}")

    def _arm(self, step: Split, contact_id: str) -> str:
        total = sum(arm.weight for arm in step.arms)
        digest = hashlib.sha256(f"{self.journey_id}:{step.id}:{contact_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % total
        bound = 0
        for arm in step.arms:
            bound += arm.weight
            if point < bound:
                return arm.next
        raise AssertionError("the weights add up")

    def _after(self, step: Step) -> str | None:
        if isinstance(step, Exit):
            return None
        if step.next is not None:
            return step.next
        index = self.order.index(step.id)
        return self.order[index + 1] if index + 1 < len(self.order) else None

    @staticmethod
    def _leave_wait(walk: Walk) -> None:
        walk.waiting_until = None
        walk.waiting_for = None
