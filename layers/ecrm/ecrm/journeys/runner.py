"""The journeys' runner: events, due timers and resume pages in, each contact's steps out.

Each contact's way through a journey is one `Progress` item. Every step moves it with a write
conditional on its `seq` (ProgressStore.move), which also adds the step's counters and, for a
webhook step, its event: a step's move happens once however often the event or timer behind it
is delivered, and a second runner that read the same progress loses the race and reads again.
An effect that leaves the journey (a mail, a tag, a field) happens before the move that records
it and is idempotent on its own: a mail is claimed under (journey, version, entry, seq), a tag
added twice is one tag. A crash between the effect and the move leaves the progress where it
was; the redelivered message runs the step again and the effect finds itself done. A progress
found `active` by any message (an event naming the contact, a timer) is a run that died between
two steps: that message runs it on first. The keys of the events that moved a progress are kept
on it (`entry_events`), so a second delivery of one (a duplicate, the same message after a crash)
does nothing.

Waits are one EventBridge Scheduler `at()` timer each, named from the progress' `seq`, so a timer
that fires for a progress that moved on (an event ended the wait, a goal, a duplicate fire) finds
another `seq` and does nothing. A timer is set before the move into the wait and never due sooner
than ARMING_MARGIN then, and again at its real time after the move when that is sooner: a crash
between the two cannot lose a wait (ecrm.timers).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecrm.clock import Clock
from ecrm.consumer import RetryLater
from ecrm.journeys import catalogue
from ecrm.journeys.definitions import has_step, next_of, step_of
from ecrm.journeys.events import JourneyStepReached
from ecrm.journeys.models import (
    OPEN,
    Branch,
    Clicked,
    Condition,
    Definition,
    EventMatch,
    Exit,
    FieldTest,
    HadEvent,
    HasTag,
    Journey,
    Opened,
    Progress,
    ResumePage,
    SendMail,
    SetField,
    Split,
    Step,
    TagStep,
    TimerFire,
    Wait,
    WaitForEvent,
    Waiting,
    WaitUntil,
    Webhook,
)
from ecrm.journeys.ports import (
    ContactStore,
    Facts,
    FactsSource,
    JourneyMailer,
    JourneyRepository,
    Move,
    OwnerDirectory,
    ProgressStore,
    ResumeQueue,
)
from ecrm.journeys.waits import next_slot, zone
from ecrm.timers import ARMING_MARGIN, Timer, Timers, timer_name

ATTEMPTS = 5  # reads of a progress that another runner moved meanwhile, before the message comes again
PAGE = 100  # held contacts moved on per resume message
KEEP_SEEN = 50
KEEP_ENTRY_EVENTS = 10
ACTOR = "journey:"


class _Moved(Exception):
    """The progress moved on since it was read: read it again."""


@dataclass(frozen=True)
class Delivery:
    """An event from the bus (ours, the shop's, or SES's on the default bus)."""

    detail_type: str
    source: str
    detail: Mapping[str, Any]
    event_id: str


@dataclass(frozen=True)
class Engagement:
    journey_id: str
    entry: int
    step: str
    kind: str  # opened, clicked


def counter_key(*parts: str) -> str:
    return "|".join(parts)


class JourneyRunner:
    def __init__(
        self,
        *,
        journeys: JourneyRepository,
        progress: ProgressStore,
        timers: Timers,
        mail: JourneyMailer,
        facts: FactsSource,
        editor: ContactStore,
        resolver: OwnerDirectory,
        resume: ResumeQueue,
        clock: Clock,
    ) -> None:
        self._journeys = journeys
        self._progress = progress
        self._timers = timers
        self._mail = mail
        self._facts = facts
        self._editor = editor
        self._resolver = resolver
        self._resume = resume
        self._clock = clock

    # -- the three kinds of message ------------------------------------------------------------
    def handle(self, message: Delivery | TimerFire | ResumePage) -> str:
        if isinstance(message, TimerFire):
            return self.on_timer(message.journey_id, message.contact_id, message.seq)
        if isinstance(message, ResumePage):
            return self.on_resume(message.journey_id, message.cursor)
        return self.on_event(message)

    def on_event(self, delivery: Delivery) -> str:
        if delivery.detail_type == catalogue.ERASED:
            erased = str(delivery.detail.get("contact_id") or "")
            return "Forgotten" if erased and self._progress.forget(erased) else "Ignored"
        heard = catalogue.BY_TYPE.get(delivery.detail_type)
        if heard is None or heard.source != delivery.source:
            return "Ignored"
        contact_id = self._contact_of(heard, delivery.detail)
        if not contact_id:
            return "Ignored"
        engagement = _engagement(delivery) if heard.how == "tags" else None
        for _ in range(ATTEMPTS):
            try:
                return self._event(contact_id, delivery, engagement)
            except _Moved:
                continue
        raise RetryLater("the contact's journeys kept moving")

    def on_timer(self, journey_id: str, contact_id: str, seq: int) -> str:
        for _ in range(ATTEMPTS):
            progress = self._progress.get(journey_id, contact_id)
            if progress is not None and progress.status == "active":
                try:  # a run that died after the wake (or a release): this timer carries it on
                    self._carry_on(progress)
                    return "Resumed"
                except _Moved:
                    continue
            if progress is None or progress.seq != seq or progress.status != "waiting":
                return "Stale"  # moved on: an event ended the wait, a goal, or this is a second fire
            try:
                return self._wake(progress)
            except _Moved:
                continue
        raise RetryLater("the progress kept moving")

    def on_resume(self, journey_id: str, cursor: str | None) -> str:
        journey = self._journeys.get(journey_id)
        if journey is None or journey.status != "live":
            return "NotLive"  # paused again (or stopped): the held stay held
        page, after = self._progress.held(journey_id, PAGE, cursor)
        for progress in page:
            for _ in range(ATTEMPTS):
                try:
                    self._release(self._progress.get(journey_id, progress.contact_id))
                    break
                except _Moved:
                    continue
        if after is not None:
            self._resume.resume(journey_id, after)
        return "Resumed"

    # -- events ----------------------------------------------------------------------------------
    def _contact_of(self, heard: catalogue.Heard, detail: Mapping[str, Any]) -> str | None:
        if heard.how == "tags":
            return catalogue.tags_of(detail).get(catalogue.TAG_CONTACT)
        if heard.how == "email" and isinstance(named := detail.get("contact_id"), str) and named:
            return named  # an order that names its contact; else the one with its address
        value = detail.get(heard.field)
        if not isinstance(value, str) or not value:
            return None
        if heard.how == "email":
            return self._resolver.by_email(value)
        if heard.how == "case":
            return self._resolver.requester_of(value)
        return value

    def _event(self, contact_id: str, delivery: Delivery, engagement: Engagement | None) -> str:
        outcomes: list[str] = []
        known = {p.journey_id: p for p in self._progress.of_contact(contact_id)}
        for journey_id, found in list(known.items()):
            progress = found
            if found.status == "active":  # a run that died between two steps: on with it first
                progress = known[journey_id] = self._carry_on(found)
                outcomes.append("Resumed")
            if progress.status in OPEN or (engagement is not None and engagement.journey_id == progress.journey_id):
                outcomes.append(self._hear(progress, delivery, engagement))
        for journey, definition in self._journeys.live():
            entry = definition.entry
            if entry.event == delivery.detail_type and catalogue.matches(entry.filter, delivery.detail):
                outcomes.append(
                    self._enter(journey, definition, contact_id, known.get(journey.id), entry_key(delivery))
                )
        acted = [o for o in outcomes if o != "Ignored"]
        return acted[0] if len(acted) == 1 else ("Ignored" if not acted else "Several")

    def _hear(self, progress: Progress, delivery: Delivery, engagement: Engagement | None) -> str:
        key = entry_key(delivery)
        if key in progress.entry_events:
            return "Ignored"  # this event moved it already: a duplicate, or the same message after a crash
        # the base of whatever this event writes (the stored `rev` kept: it is the write's guard)
        progress = progress.model_copy(update={"entry_events": _heard(progress, key)})
        definition = self._definition(progress)
        marks: list[str] = []
        counts: Counter[str] = Counter()
        if engagement is not None and engagement.journey_id == progress.journey_id:
            marker = f"{engagement.kind}:{engagement.step}"
            if engagement.entry == progress.entry and marker not in progress.seen:
                marks.append(marker)
                counts[counter_key("s", engagement.step, engagement.kind)] += 1
        if delivery.detail_type in _listened(definition) and delivery.detail_type not in progress.seen:
            marks.append(delivery.detail_type)
        if progress.status in OPEN and _any_match(definition.goals, delivery):
            return self._exit(progress, "goal", marks)
        waiting = progress.waiting
        if progress.status == "waiting" and waiting and waiting.event and _one_match(waiting.event, delivery):
            return self._wake(progress, by_event=True, marks=marks)
        if not marks:
            return "Ignored"
        self._write(Move(progress, _with(progress, self._clock.now(), seen=_seen(progress, marks)), counts))
        return "Noted"

    def _enter(
        self, journey: Journey, definition: Definition, contact_id: str, before: Progress | None, event_id: str
    ) -> str:
        now = self._clock.now()
        if before is not None and not _may_reenter(before, definition, event_id, now):
            return "Ignored"
        first = definition.steps[0].id
        after = Progress(
            journey_id=journey.id,
            contact_id=contact_id,
            version=journey.version,
            entry=before.entry + 1 if before else 1,
            status="active",
            step=first,
            seq=before.seq + 1 if before else 0,
            rev=before.rev + 1 if before else 0,
            entered_at=now,
            updated_at=now,
            entry_events=_heard(before, event_id) if before else [event_id],
        )
        counts = {"entered": 1, counter_key("s", first, "entered"): 1}
        if not self._progress.move(Move(before, after, counts, live=True)):
            current = self._journeys.get(journey.id)
            if current is None or current.status != "live":
                return "Ignored"  # paused or stopped since the live list was read
            raise _Moved
        self._drive(after, journey, definition)
        return "Entered"

    # -- moving on -------------------------------------------------------------------------------
    def _wake(self, progress: Progress, by_event: bool = False, marks: Sequence[str] = ()) -> str:
        """The wait is over (its timer, or its event): on to the step after it."""
        journey = self._journey(progress.journey_id)
        if journey.status == "stopped":
            return self._exit(progress, "stopped", marks)
        if journey.status != "live" and not by_event:
            self._write(Move(progress, _with(progress, self._clock.now(), status="held")))
            return "Held"
        definition = self._definition(progress)
        step = step_of(definition, progress.step or "")
        nxt = step.on_timeout if isinstance(step, WaitForEvent) and not by_event else next_of(definition, step.id)
        after = self._go(progress, step.id, nxt, seen=_seen(progress, marks))
        self._drive(after, journey, definition)
        return "Woken"

    def _release(self, progress: Progress | None) -> None:
        """A held contact moves on through the runner's own queue, as a due timer: armed first (a
        safety timer a few minutes ahead), then the progress written back to what it was before
        the pause, then sent at once. A crash anywhere in between leaves the safety timer, which
        finds the progress waiting (and wakes it) or active (and runs it on): nobody is stranded
        off the held index."""
        if progress is None or progress.status != "held":
            return
        now = self._clock.now()
        status = "waiting" if progress.waiting is not None else "active"
        after = _with(progress, now, status=status)
        self._armed(f"r{progress.rev}", progress.seq, now, Move(progress, after))

    def _carry_on(self, progress: Progress) -> Progress:
        """An active progress at rest is a run that died between two steps (each step's effect is
        claimed under its seq, so running it again does it once): run on from where it stopped."""
        self._drive(progress, self._journey(progress.journey_id), self._definition(progress))
        return self._progress.get(progress.journey_id, progress.contact_id) or progress

    def _drive(self, progress: Progress, journey: Journey, definition: Definition) -> None:
        """Run the contact's steps until they wait, leave, or the journey holds them."""
        while progress.status == "active":
            progress, definition = self._at_boundary(progress, journey, definition)
            if progress.status == "active":
                progress = self._run(progress, definition)

    def _at_boundary(self, progress: Progress, journey: Journey, definition: Definition) -> tuple[Progress, Definition]:
        """Between two steps: a stopped journey lets them go, a paused one holds them, and a
        migration moves them to the newest version when it has the step they are at."""
        if journey.status == "stopped":
            self._exit(progress, "stopped")
            return self._progress.get(progress.journey_id, progress.contact_id) or progress, definition
        if journey.status != "live":
            held = _with(progress, self._clock.now(), status="held")
            self._write(Move(progress, held))
            return held, definition
        if progress.version != journey.version and progress.version in journey.migrate:
            newest = self._journeys.definition(journey.id, journey.version)
            if newest is not None and progress.step and has_step(newest, progress.step):
                moved = _with(progress, self._clock.now(), version=journey.version)
                self._write(Move(progress, moved, {"migrated_in": 1}))
                return moved, newest
        return progress, definition

    def _run(self, progress: Progress, definition: Definition) -> Progress:
        step = step_of(definition, progress.step or "")
        if isinstance(step, Wait | WaitUntil | WaitForEvent):
            return self._wait(progress, step, definition)
        if isinstance(step, Exit):
            return self._go(progress, step.id, None)
        if isinstance(step, Branch | Split):
            choice, nxt = self._choose(progress, step, definition)
            path = [*progress.path, f"{step.id}:{choice}"]
            counts = {counter_key("c", step.id, choice, "taken"): 1}
            return self._go(progress, step.id, nxt, counts=counts, path=path)
        return self._act(progress, step, definition)

    def _act(self, progress: Progress, step: Step, definition: Definition) -> Progress:
        counts: dict[str, int] = {}
        events: list[JourneyStepReached] = []
        actor = ACTOR + progress.journey_id
        if isinstance(step, SendMail):
            outcome = self._mail.send(progress, step.id, step.template_id, step.topic)
            counts[counter_key("s", step.id, outcome)] = 1
        elif isinstance(step, TagStep):
            self._editor.edit(progress.contact_id, actor, add_tags=step.add, remove_tags=step.remove)
        elif isinstance(step, SetField):
            self._editor.edit(progress.contact_id, actor, fields={step.field: step.value})
        elif isinstance(step, Webhook):
            events.append(
                JourneyStepReached(
                    occurred_at=self._clock.now(),
                    journey_id=progress.journey_id,
                    version=progress.version,
                    step_id=step.id,
                    label=step.label,
                    contact_id=progress.contact_id,
                    entry=progress.entry,
                )
            )
        return self._go(progress, step.id, next_of(definition, step.id), counts=counts, events=events)

    def _wait(self, progress: Progress, step: Wait | WaitUntil | WaitForEvent, definition: Definition) -> Progress:
        now = self._clock.now()
        if isinstance(step, Wait):
            due, event = now + step.duration.delta, None
        elif isinstance(step, WaitForEvent):
            due, event = now + step.timeout.delta, step.event
        else:
            due, event = self._slot(progress, step, definition, now), None
        seq = progress.seq + 1
        after = _with(progress, now, status="waiting", waiting=Waiting(until=due, event=event), seq=seq)
        self._armed(str(seq), seq, due, Move(progress, after))
        return after

    def _armed(self, suffix: str, seq: int, due: datetime, move: Move) -> None:
        """`move` written with a timer of the contact's (`journey-<journey>-<contact>-<suffix>`,
        carrying `seq`) armed around it (decision 19): set first no sooner than ARMING_MARGIN from
        now, then, after the write, at `due` if that is sooner (a time already past goes straight to
        the queue). A crash between the two delays the timer by the margin at most, never loses it."""
        progress = move.after
        name = timer_name("journey", progress.journey_id, progress.contact_id, suffix)
        payload = {"action": "timer", "journey_id": progress.journey_id, "contact_id": progress.contact_id, "seq": seq}
        early = self._clock.now() + ARMING_MARGIN
        self._timers.set(Timer(name, max(due, early), payload))
        self._write(move)
        if due < early:
            self._timers.set(Timer(name, due, payload))

    def _slot(self, progress: Progress, step: WaitUntil, definition: Definition, now: datetime) -> datetime:
        contact = self._facts.facts(progress.contact_id).contact
        named = contact.custom.get("time_zone") if contact is not None else None
        return next_slot(now, list(step.weekdays), step.at, zone(named, definition.time_zone))

    def _choose(self, progress: Progress, step: Branch | Split, definition: Definition) -> tuple[str, str | None]:
        if isinstance(step, Split):
            arm = pick_arm(progress.journey_id, step.id, progress.contact_id, [(a.name, a.weight) for a in step.arms])
            return arm, next(a.next for a in step.arms if a.name == arm)
        facts = self._facts.facts(progress.contact_id)
        for i, case in enumerate(step.cases):
            if holds(case.if_, facts, progress):
                return f"case-{i + 1}", case.next
        return "else", step.else_ if step.else_ is not None else next_of(definition, step.id)

    def _go(
        self,
        progress: Progress,
        step_id: str,
        nxt: str | None,
        counts: Mapping[str, int] | None = None,
        path: list[str] | None = None,
        events: Sequence[JourneyStepReached] = (),
        seen: list[str] | None = None,
    ) -> Progress:
        """Leave `step_id` for `nxt` (None: the journey is done), in one conditional write."""
        tally: Counter[str] = Counter(counts or {})
        tally[counter_key("s", step_id, "completed")] += 1
        now = self._clock.now()
        changes: dict[str, Any] = {"seq": progress.seq + 1, "waiting": None}
        if path is not None:
            changes["path"] = path
        if seen is not None:
            changes["seen"] = seen
        if nxt is None:
            tally["completed"] += 1
            changes |= {"status": "done", "step": None, "outcome": "completed"}
        else:
            tally[counter_key("s", nxt, "entered")] += 1
            changes |= {"status": "active", "step": nxt}
        after = _with(progress, now, **changes)
        self._write(Move(progress, after, dict(tally), events=events))
        return after

    def _exit(self, progress: Progress, why: str, marks: Sequence[str] = ()) -> str:
        counts: Counter[str] = Counter({"goal" if why == "goal" else "exited": 1})
        if progress.step:
            counts[counter_key("s", progress.step, "goal" if why == "goal" else "left")] += 1
        if why == "goal":
            for taken in progress.path:
                step, _, choice = taken.partition(":")
                counts[counter_key("c", step, choice, "conv")] += 1
        after = _with(
            progress,
            self._clock.now(),
            status="exited",
            outcome=why,
            seq=progress.seq + 1,
            waiting=None,
            seen=_seen(progress, marks),
        )
        self._write(Move(progress, after, dict(counts)))
        return "Converted" if why == "goal" else "Stopped"

    # -- reads -----------------------------------------------------------------------------------
    def _write(self, move: Move) -> None:
        if not self._progress.move(move):
            raise _Moved

    def _journey(self, journey_id: str) -> Journey:
        journey = self._journeys.get(journey_id)
        if journey is None:
            raise RetryLater("the journey is not there")  # never deleted: a replica lagging
        return journey

    def _definition(self, progress: Progress) -> Definition:
        definition = self._journeys.definition(progress.journey_id, progress.version)
        if definition is None:
            raise RetryLater("the journey's version is not there")
        return definition


# -- pure parts ------------------------------------------------------------------------------------
def _with(progress: Progress, now: datetime, **changes: Any) -> Progress:
    """The next write of this progress: `rev` always moves on (the write's guard); `seq` only when
    a step is left (what timers and mail claims are keyed on)."""
    return progress.model_copy(update={**changes, "updated_at": now, "rev": progress.rev + 1})


def _heard(progress: Progress, key: str) -> list[str]:
    return [*progress.entry_events, key][-KEEP_ENTRY_EVENTS:]


def _seen(progress: Progress, marks: Sequence[str]) -> list[str]:
    return [*progress.seen, *[m for m in marks if m not in progress.seen]][-KEEP_SEEN:]


def entry_key(delivery: Delivery) -> str:
    """What makes an entry event the same event: its type and detail, not its bus id (a publisher
    that sends an event again after a crash gets a new id for the same detail)."""
    canonical = json.dumps(delivery.detail, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{delivery.detail_type}\n{canonical}".encode()).hexdigest()[:24]


def _may_reenter(before: Progress, definition: Definition, event_id: str, now: datetime) -> bool:
    if before.status in OPEN or event_id in before.entry_events or definition.entry.once:
        return False
    days = definition.entry.reenter_after_days
    return days is None or now - before.entered_at >= timedelta(days=days)


def _listened(definition: Definition) -> frozenset[str]:
    """The events a branch of this definition asks about (`happened`): worth noting on a progress."""
    found: set[str] = set()
    for step in definition.steps:
        if isinstance(step, Branch):
            found.update(c.if_.happened for c in step.cases if isinstance(c.if_, HadEvent))
    return frozenset(found)


def _one_match(match: EventMatch, delivery: Delivery) -> bool:
    return match.event == delivery.detail_type and catalogue.matches(match.filter, delivery.detail)


def _any_match(matches: Sequence[EventMatch], delivery: Delivery) -> bool:
    return any(_one_match(m, delivery) for m in matches)


def _engagement(delivery: Delivery) -> Engagement | None:
    tags = catalogue.tags_of(delivery.detail)
    journey_id, entry, step = (tags.get(t) for t in (catalogue.TAG_JOURNEY, catalogue.TAG_ENTRY, catalogue.TAG_STEP))
    if not journey_id or not step or not entry or not entry.isdigit():
        return None
    kind = "opened" if delivery.detail_type == catalogue.OPENED else "clicked"
    return Engagement(journey_id, int(entry), step, kind)


def pick_arm(journey_id: str, step_id: str, contact_id: str, arms: Sequence[tuple[str, int]]) -> str:
    """An arm by weight, the same for a contact at a step every time (a hash, not a draw)."""
    digest = hashlib.sha256(f"{journey_id}:{step_id}:{contact_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(weight for _, weight in arms)
    for name, weight in arms:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("the weights add up")  # pragma: no cover


def holds(condition: Condition, facts: Facts, progress: Progress) -> bool:
    """Whether a branch's `if` holds for this contact now; an erased contact holds none."""
    if isinstance(condition, HadEvent):
        return condition.happened in progress.seen
    if isinstance(condition, Opened):
        return f"opened:{condition.opened}" in progress.seen
    if isinstance(condition, Clicked):
        return f"clicked:{condition.clicked}" in progress.seen
    contact = facts.contact
    if contact is None:
        return False
    if isinstance(condition, HasTag):
        return condition.tag in contact.tags
    return _field_holds(condition, field_value(condition.field, facts))


def field_value(field: str, facts: Facts) -> str | None:
    contact = facts.contact
    if field == "loyalty.tier":
        return facts.tier
    if contact is None:
        return None
    if field == "contact.consent":
        return contact.consent.status
    if field.startswith("contact.custom."):
        return contact.custom.get(field.removeprefix("contact.custom."))
    value = getattr(contact, field.removeprefix("contact."), None)
    return value if isinstance(value, str) else None


def _field_holds(test: FieldTest, value: str | None) -> bool:
    present = value is not None and value != ""
    if test.op == "exists":
        return present
    if test.op == "missing":
        return not present
    if not present:
        return test.op == "ne"
    wanted = test.value if isinstance(test.value, list) else [test.value]
    texts = [str(w).lower() for w in wanted]
    found = str(value).lower()
    if test.op == "contains":
        return texts[0] in found
    hit = found in texts
    return hit if test.op in ("eq", "in") else not hit
