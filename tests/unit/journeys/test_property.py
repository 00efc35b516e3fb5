"""Issue 13's property: any interleaving of entry, goal, timer and duplicate events gives each contact
exactly the mails and tags that a pure interpreter of the definition gives (tests/unit/journeys/reference.py).

Hypothesis draws a small definition that passes `definitions.check` and a script of distinct
deliveries over 1-4 contacts. The reference walks the script as it is; the runner gets the same
script with noise a queue and a scheduler add: events delivered again (at once or a few
deliveries later), timers fired twice, old timers fired late, and a crash at some moves after
which the message comes again. JOURNEY_PROPERTY_EXAMPLES raises the number of examples (make bench).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from ecrm.journeys import catalogue
from ecrm.journeys.definitions import problems
from ecrm.journeys.models import Definition
from ecrm.names import DetailType
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from tests.unit.journeys.fakes import JOURNEY, T0, TEMPLATE, Crash, World, contact_id, known
from tests.unit.journeys.reference import ENTERED, GOAL, OPEN, OTHER, Advance, Event, Item, Reference

EXAMPLES = int(os.environ.get("JOURNEY_PROPERTY_EXAMPLES", "60"))
TAGS = ("vip", "lead", "cold")
TIER, CASE, ORDER, CAPTURED = "TierChanged.v1", "CaseCreated.v1", "OrderPlaced.v1", DetailType.CONTACT_CAPTURED
WAIT_EVENTS = ({"event": TIER}, {"event": TIER, "filter": {"tier": "gold"}}, {"event": CASE})
GOALS: tuple[list[dict[str, Any]], ...] = (
    [],
    [{"event": ORDER}],
    [{"event": TIER, "filter": {"tier": "gold"}}],
    [{"event": ORDER}, {"event": CASE}],
    [{"event": CAPTURED, "filter": {"form_id": "other"}}],  # the entry event, another form: a goal too
)
KINDS = ("send_mail", "send_mail", "wait", "wait_for_event", "branch", "tag", "split", "exit")
MINUTES = (30, 60, 1440)


# -- definitions ----------------------------------------------------------------------------------
@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    n = draw(st.integers(3, 6))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    if kinds[-1] in ("branch", "split"):
        kinds[-1] = "send_mail"
    ids = [f"s{i}" for i in range(n)]
    mails = [ids[i] for i, k in enumerate(kinds) if k == "send_mail"]
    steps = [_step(draw, i, kind, ids, mails) for i, kind in enumerate(kinds)]
    raw = {
        "name": "property",
        "entry": {
            "event": CAPTURED,
            "filter": draw(st.sampled_from([{}, {"form_id": "newsletter"}])),
            "once": draw(st.booleans()),
        },
        "goals": draw(st.sampled_from(GOALS)),
        "steps": steps,
    }
    definition = Definition.model_validate(raw)
    assume(not list(problems(definition, known())))
    return definition


def _step(draw: st.DrawFn, i: int, kind: str, ids: list[str], mails: list[str]) -> dict[str, Any]:
    later = ids[i + 1 :]
    step: dict[str, Any] = {"id": ids[i], "type": kind}
    if kind == "send_mail":
        step |= {"template_id": TEMPLATE, "topic": "news"}
    elif kind == "wait":
        step["duration"] = {"minutes": draw(st.sampled_from(MINUTES))}
        if draw(st.integers(0, 3)) == 0:  # a loop back, through this wait
            step["next"] = draw(st.sampled_from(ids[: i + 1]))
    elif kind == "wait_for_event":
        step |= {
            "event": draw(st.sampled_from(WAIT_EVENTS)),
            "timeout": {"minutes": draw(st.sampled_from(MINUTES))},
            "on_timeout": draw(st.sampled_from(later or ids[: i + 1])),
        }
    elif kind in ("branch", "split"):
        step |= _choice(draw, kind, later, mails)
    elif kind == "tag":
        add = draw(st.sets(st.sampled_from(TAGS), max_size=2))
        remove = draw(st.sets(st.sampled_from([t for t in TAGS if t not in add]), min_size=0 if add else 1, max_size=1))
        step |= {"add": sorted(add), "remove": sorted(remove)}
    return step


def _choice(draw: st.DrawFn, kind: str, later: list[str], mails: list[str]) -> dict[str, Any]:
    if kind == "split":
        return {
            "arms": [{"name": n, "weight": draw(st.integers(1, 3)), "next": draw(st.sampled_from(later))} for n in "AB"]
        }
    conditions: list[dict[str, str]] = [{"tag": t} for t in TAGS] + [{"happened": TIER}, {"happened": CASE}]
    conditions += [{"opened": m} for m in mails]
    cases = draw(st.lists(st.sampled_from(conditions), min_size=1, max_size=2))
    branch: dict[str, Any] = {"cases": [{"if": c, "next": draw(st.sampled_from(later))} for c in cases]}
    if draw(st.booleans()):
        branch["else"] = draw(st.sampled_from(later))
    return branch


# -- scripts --------------------------------------------------------------------------------------
def _event(kind: str, contact: int, n: int, variant: str) -> Event:
    """Two events are two details (as on the bus, where each carries its own `occurred_at`): the
    runner tells a repeated event by its type and detail, not its bus id (runner.entry_key)."""
    cid = contact_id(contact)
    eid = f"e{n}"
    if kind == ENTERED:
        return Event(kind, contact, CAPTURED, {"contact_id": cid, "form_id": variant, "occurred_at": eid}, eid)
    if kind == GOAL:
        return Event(kind, contact, ORDER, {"email": f"c{contact}@example.com", "order_id": eid}, eid)
    if kind == OPEN:
        return Event(kind, contact, catalogue.OPENED, {}, eid)
    if variant == "case":
        return Event(kind, contact, CASE, {"requester_id": cid, "case_id": eid}, eid)
    return Event(kind, contact, TIER, {"member_id": cid, "tier": variant}, eid)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[int, list[Item]]:
    contacts = draw(st.integers(1, 4))
    raw = draw(
        st.lists(
            st.one_of(
                *[st.tuples(st.just(ENTERED), st.integers(0, contacts - 1), st.sampled_from(["newsletter", "other"]))]
                * 3,
                st.tuples(st.just(GOAL), st.integers(0, contacts - 1), st.just("")),
                st.tuples(st.just(OTHER), st.integers(0, contacts - 1), st.sampled_from(["gold", "silver", "case"])),
                st.tuples(st.just(OPEN), st.integers(0, contacts - 1), st.just("")),
                st.tuples(st.just("advance"), st.sampled_from([1, 25, 45, 90, 1500]), st.just("")),
            ),
            min_size=4,
            max_size=20,
        )
    )
    first = draw(st.lists(st.integers(0, contacts - 1), min_size=1, max_size=contacts, unique=True))
    raw = [(ENTERED, c, "newsletter") for c in first] + raw  # most scripts start with someone entering
    script: list[Item] = [
        Advance(value) if kind == "advance" else _event(kind, value, n, variant)
        for n, (kind, value, variant) in enumerate(raw)
    ]
    return contacts, script


# -- the runner, with the noise ---------------------------------------------------------------------
class Driver:
    def __init__(self, world: World, data: st.DataObject) -> None:
        self.world = world
        self.data = data
        self.opened: dict[str, dict[str, Any]] = {}  # an Email Opened's detail, fixed at its first delivery

    def play(self, script: list[Item]) -> None:
        """The script, with duplicates (at once, or a few deliveries later) and old timers."""
        later: dict[int, list[Event]] = {}
        for position, item in enumerate(script):
            for duplicate in later.pop(position, []):
                self.deliver(duplicate)
            if isinstance(item, Advance):
                self.advance(item.minutes)
                continue
            self.deliver(item)
            again = self.data.draw(st.sampled_from([None, None, 0, 1, 3]), label=f"{item.id} again after")
            if again is not None:
                later.setdefault(_redelivery(script, position, again), []).append(item)
            if self.data.draw(st.integers(0, 4), label="an old timer fires") == 0:
                self.stale_timer(item.contact)
        for duplicate in [d for position in sorted(later) for d in later[position]]:
            self.deliver(duplicate)

    def deliver(self, event: Event) -> None:
        if event.kind == OPEN:  # SES's Open event: the mail's tags, and when it was opened
            detail = self.opened.setdefault(event.id, {**self._opened(event.contact), "open": {"timestamp": event.id}})
        else:
            detail = event.detail
        self._racing(lambda: self.world.event(event.detail_type, detail, event.id))

    def _opened(self, contact: int) -> dict[str, Any]:
        cid = contact_id(contact)
        tags = {catalogue.TAG_CONTACT: [cid]}
        sent = [s for s in self.world.mail.sent if s.contact_id == cid]
        if sent:
            last = sent[-1]
            tags |= {
                catalogue.TAG_JOURNEY: [last.journey_id],
                catalogue.TAG_VERSION: [str(last.version)],
                catalogue.TAG_ENTRY: [str(last.entry)],
                catalogue.TAG_STEP: [last.step],
            }
        return {"mail": {"tags": tags}}

    def advance(self, minutes: int) -> None:
        world = self.world
        until = world.clock.now() + timedelta(minutes=minutes)
        while (timer := world.timers.next_due(until)) is not None:
            world.clock.at = max(world.clock.at, timer.at)
            for _ in range(2 if self.data.draw(st.integers(0, 3), label="timer fired twice") == 0 else 1):
                self._racing(partial(world.fire, timer))
        world.clock.at = until

    def stale_timer(self, contact: int) -> None:
        progress = self.world.progress(contact_id(contact))
        if progress is None or progress.seq == 0:
            return
        seq = self.data.draw(st.integers(0, progress.seq - 1), label="an old timer's seq")
        self._again(lambda: self.world.runner.on_timer(JOURNEY, contact_id(contact), seq))

    def _racing(self, call: Callable[[], object]) -> None:
        """Deliver `call`; should one of its moves be drawn to race, the same message is handled
        start to end by a second runner just before that move is written."""
        self.world.crashes.racer = lambda: self._again(call)
        self._again(call)
        self.world.crashes.racer = None

    def _again(self, call: Callable[[], object]) -> None:
        """One message, delivered until it is handled (a crash: the queue delivers it again)."""
        for _ in range(10):
            try:
                call()
                return
            except Crash:
                continue
        raise AssertionError("a message kept crashing")


def _redelivery(script: list[Item], position: int, after: int) -> int:
    """Where a duplicate of the event at `position` comes: `after` deliveries later, but before
    time passes or the same contact is named again. A duplicate of an event that arrives after the
    contact's state moved on for another reason (they entered, a wait began) looks like a new
    event to the runner: telling them apart needs the event's time, which no delivery carries."""
    contact = script[position].contact  # type: ignore[union-attr]
    if after == 0:
        return position + 1
    for later in range(position + 1, position + after):
        item = script[later] if later < len(script) else None
        if item is None or isinstance(item, Advance) or item.contact == contact:
            return later
    return position + after


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(definition=definitions(), drawn=scripts(), data=st.data())
def test_the_runner_gives_each_contact_what_the_reference_gives(definition, drawn, data) -> None:
    contacts, script = drawn
    note(definition.model_dump_json(by_alias=True, exclude_defaults=True))
    note(repr(script))
    tags = {c: set(data.draw(st.sets(st.sampled_from(TAGS)), label=f"tags of {c}")) for c in range(contacts)}
    reference = Reference(definition, JOURNEY, {c: contact_id(c) for c in range(contacts)}, T0)
    expected = reference.run(script, tags)

    crash_at = data.draw(st.sets(st.integers(1, 20), max_size=3), label="moves that crash")
    crash_after = data.draw(st.booleans(), label="the crashing move was written")
    world = World(crash_at=crash_at, crash_after=crash_after)
    world.crashes.race_at = data.draw(st.sets(st.integers(1, 20), max_size=3), label="moves that race")
    for c in range(contacts):
        world.book.add(c, tags=sorted(tags[c]))
    world.journeys.publish(definition)
    Driver(world, data).play(script)

    event(f"mails sent: {min(len(world.mail.sent), 3)}+")
    event(f"crashed: {min(world.crashes.crashed, 1)}, raced: {min(world.crashes.raced, 1)}")
    counts = world.counts()
    assert counts.get("entered", 0) == sum(walk.entries for walk in reference.walks.values())
    for step in definition.steps:
        sent = sum(mails.count(step.id) for mails, _ in expected.values())
        assert counts.get(f"s|{step.id}|sent", 0) == sent, f"mails counted for {step.id}"
    for c in range(contacts):
        mails, final_tags = expected[c]
        assert world.mail.steps_of(contact_id(c)) == mails, f"mails of contact {c}"
        assert world.book.tags(contact_id(c)) == final_tags, f"tags of contact {c}"
