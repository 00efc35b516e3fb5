"""In-memory stand-ins for the journeys' ports, with the conditions DynamoDB and Scheduler give.

`MemoryProgress.move` is the conditional write: it succeeds only if the stored progress is still
`move.before` (its `seq`; absent for a first entry) and, with `live`, only while the journey is
live; the counters and events of a move land with it or not at all. `Crashes` wraps a store to
make chosen moves fail the way a Lambda dies: the effects before the move happened, the move
did (`after=True`) or did not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.clock import FixedClock
from ecrm.contacts.models import Consent, Contact
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.journeys import catalogue
from ecrm.journeys.definitions import Known
from ecrm.journeys.models import Definition, Journey, JourneyVersion, Progress
from ecrm.journeys.ports import Facts, Move
from ecrm.journeys.runner import Delivery, JourneyRunner
from ecrm.names import Source
from ecrm.timers import Timer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TEMPLATE = "a" * 32
TOPICS = ("news", "offers")
JOURNEY = "1" * 32


def contact_id(n: int) -> str:
    return f"{n:032x}"


def known(templates: Collection[str] = (TEMPLATE,), topics: Collection[str] = TOPICS) -> Known:
    return Known(templates=lambda ids: [i for i in ids if i in templates], topics=topics)


class MemoryJourneys:
    """JourneyRepository: journeys (revisioned) and their immutable versions."""

    def __init__(self) -> None:
        self.journeys: dict[str, Journey] = {}
        self.versions: dict[tuple[str, int], Definition] = {}

    def get(self, journey_id: str) -> Journey | None:
        return self.journeys.get(journey_id)

    def definition(self, journey_id: str, version: int) -> Definition | None:
        return self.versions.get((journey_id, version))

    def live(self) -> Sequence[tuple[Journey, Definition]]:
        return [(j, self.versions[(j.id, j.version)]) for j in self.journeys.values() if j.status == "live"]

    def create(self, journey: Journey, version: JourneyVersion) -> None:
        if journey.id in self.journeys:
            raise AlreadyExists(journey.id)
        self.journeys[journey.id] = journey
        self.versions[(journey.id, version.version)] = version.definition

    def save(self, journey: Journey, expected_revision: int, version: JourneyVersion | None = None) -> None:
        stored = self.journeys.get(journey.id)
        if stored is None or stored.revision != expected_revision:
            raise Conflict(f"journey {journey.id} changed")
        if version is not None:
            if (journey.id, version.version) in self.versions:
                raise AlreadyExists(f"{journey.id} v{version.version}")
            self.versions[(journey.id, version.version)] = version.definition
        self.journeys[journey.id] = journey

    def all(self) -> Sequence[Journey]:
        return list(self.journeys.values())

    # -- what the service would do (tests drive these) -------------------------------------------
    def publish(self, definition: Definition, journey_id: str = JOURNEY, now: datetime = T0) -> Journey:
        journey = Journey(id=journey_id, name=definition.name, status="live", version=1, created_at=now, updated_at=now)
        self.create(
            journey,
            JourneyVersion(journey_id=journey_id, version=1, definition=definition, created_at=now, created_by="t"),
        )
        return journey

    def revise(self, journey_id: str, definition: Definition, migrate: bool = False, now: datetime = T0) -> Journey:
        old = self.journeys[journey_id]
        version = old.version + 1
        migrated = sorted({*old.migrate, *range(1, version)}) if migrate else old.migrate
        new = old.model_copy(update={"version": version, "migrate": migrated, "revision": old.revision + 1})
        self.save(
            new,
            old.revision,
            JourneyVersion(
                journey_id=journey_id, version=version, definition=definition, created_at=now, created_by="t"
            ),
        )
        return new

    def set_status(self, journey_id: str, status: str) -> Journey:
        old = self.journeys[journey_id]
        new = old.model_copy(update={"status": status, "revision": old.revision + 1})
        self.save(new, old.revision)
        return new


class MemoryProgress:
    """ProgressStore and StatsStore."""

    def __init__(self, journeys: MemoryJourneys) -> None:
        self.journeys = journeys
        self.items: dict[tuple[str, str], Progress] = {}
        self.counters: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        self.events: list[DomainEvent] = []
        self.moves = 0  # successful ones
        self.refused = 0

    def of_contact(self, contact_id: str) -> Sequence[Progress]:
        return [p for (_, c), p in sorted(self.items.items()) if c == contact_id]

    def get(self, journey_id: str, contact_id: str) -> Progress | None:
        return self.items.get((journey_id, contact_id))

    def move(self, move: Move) -> bool:
        key = (move.after.journey_id, move.after.contact_id)
        current = self.items.get(key)
        if move.before is None:
            ok = current is None
        else:
            ok = (
                current is not None
                and (move.before.journey_id, move.before.contact_id) == key
                and current.rev == move.before.rev
            )
        if ok and move.live:
            journey = self.journeys.get(key[0])
            ok = journey is not None and journey.status == "live"
        if not ok:
            self.refused += 1
            return False
        self.items[key] = move.after
        self.counters[(key[0], move.after.version)].update(move.counts)
        self.events.extend(move.events)
        self.moves += 1
        return True

    def held(self, journey_id: str, limit: int, cursor: str | None) -> tuple[Sequence[Progress], str | None]:
        held = [p for (j, c), p in sorted(self.items.items()) if j == journey_id and p.status == "held"]
        held = [p for p in held if cursor is None or p.contact_id > cursor]
        page = held[:limit]
        return page, (page[-1].contact_id if len(held) > limit else None)

    def forget(self, contact_id: str) -> int:
        gone = [k for k in self.items if k[1] == contact_id]
        for k in gone:
            del self.items[k]
        return len(gone)

    def counts(self, journey_id: str, version: int) -> dict[str, int]:
        return dict(self.counters[(journey_id, version)])


class Crash(Exception):
    """The function died (a timeout, an out-of-memory): the message comes again."""


class Crashes:
    """A ProgressStore whose moves numbered in `at` (1-based, counted over every call) raise.
    `after=False`: the write did not happen (a crash between a step's effect and its move);
    `after=True`: it did, and the function died right after it.

    Moves numbered in `race_at` first let `racer` run (a second runner handling another message,
    or the same one delivered twice, start to end, between this runner's read and its write)."""

    def __init__(self, store: MemoryProgress, at: Collection[int] = (), after: bool = False) -> None:
        self.store = store
        self.at = set(at)
        self.after = after
        self.calls = 0
        self.crashed = 0
        self.race_at: set[int] = set()
        self.racer: Callable[[], object] | None = None
        self.raced = 0

    def of_contact(self, contact_id: str) -> Sequence[Progress]:
        return self.store.of_contact(contact_id)

    def get(self, journey_id: str, contact_id: str) -> Progress | None:
        return self.store.get(journey_id, contact_id)

    def move(self, move: Move) -> bool:
        self.calls += 1
        if self.calls in self.race_at and self.racer is not None:
            racer, self.racer = self.racer, None
            self.raced += 1
            racer()
        if self.calls not in self.at:
            return self.store.move(move)
        self.crashed += 1
        if self.after:
            self.store.move(move)
        raise Crash(f"crashed at move {self.calls}")

    def held(self, journey_id: str, limit: int, cursor: str | None) -> tuple[Sequence[Progress], str | None]:
        return self.store.held(journey_id, limit, cursor)

    def forget(self, contact_id: str) -> int:
        return self.store.forget(contact_id)


class MemoryTimers:
    """ecrm.timers.Timers: one timer per name (setting it again moves it)."""

    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}
        self.sets: list[Timer] = []

    def set(self, timer: Timer) -> None:
        self.sets.append(timer)
        self.timers[timer.name] = timer

    def cancel(self, name: str) -> None:
        self.timers.pop(name, None)

    def next_due(self, now: datetime) -> Timer | None:
        """Pop the earliest timer due at `now` (what the scheduler fires next), if any."""
        due = sorted((t for t in self.timers.values() if t.at <= now), key=lambda t: (t.at, t.name))
        if not due:
            return None
        del self.timers[due[0].name]
        return due[0]


@dataclass(frozen=True)
class Sent:
    contact_id: str
    journey_id: str
    version: int
    entry: int
    step: str
    template_id: str
    topic: str
    outcome: str


class MemoryMail:
    """JourneyMailer: claims (journey, version, entry, seq, step) once; a second send of the same
    claim sends nothing and answers what the first did."""

    def __init__(self) -> None:
        self.claims: dict[tuple[str, int, int, int, str, str], str] = {}
        self.sent: list[Sent] = []
        self.unconsented: set[str] = set()
        self.calls = 0

    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        self.calls += 1
        key = (progress.journey_id, progress.version, progress.entry, progress.seq, step_id, progress.contact_id)
        if key in self.claims:
            return self.claims[key]
        outcome = "skipped" if progress.contact_id in self.unconsented else "sent"
        self.claims[key] = outcome
        if outcome == "sent":
            self.sent.append(
                Sent(
                    progress.contact_id,
                    progress.journey_id,
                    progress.version,
                    progress.entry,
                    step_id,
                    template_id,
                    topic,
                    outcome,
                )
            )
        return outcome

    def steps_of(self, contact_id: str) -> list[str]:
        return [s.step for s in self.sent if s.contact_id == contact_id]


class MemoryContactBook:
    """FactsSource, ContactStore and OwnerDirectory over a dict of contacts."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.tiers: dict[str, str] = {}
        self.cases: dict[str, str] = {}  # case id -> requester
        self.edits: list[tuple[str, str]] = []  # (contact, actor) of each edit that changed something

    def add(self, n: int, tags: Sequence[str] = (), consent: bool = True, **fields: Any) -> str:
        cid = contact_id(n)
        self.contacts[cid] = Contact(
            id=cid,
            email=f"c{n}@example.com",
            tags=list(tags),
            consent=Consent(status="confirmed" if consent else "none"),
            created_at=T0,
            updated_at=T0,
            **fields,
        )
        return cid

    def facts(self, contact_id: str) -> Facts:
        return Facts(self.contacts.get(contact_id), self.tiers.get(contact_id))

    def edit(
        self,
        contact_id: str,
        actor: str,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        fields: Mapping[str, str] | None = None,
    ) -> bool:
        contact = self.contacts.get(contact_id)
        if contact is None:
            return False
        tags = [t for t in contact.tags if t not in remove_tags]
        tags += [t for t in add_tags if t not in tags]
        custom = dict(contact.custom)
        update: dict[str, Any] = {"tags": tags}
        for name, value in (fields or {}).items():
            if name == "contact.company":
                update["company"] = value
            else:
                custom[name.removeprefix("contact.custom.")] = value
        update["custom"] = custom
        changed = contact.model_copy(update=update)
        if changed != contact:
            self.contacts[contact_id] = changed.model_copy(update={"version": contact.version + 1})
            self.edits.append((contact_id, actor))
        return True

    def tags(self, contact_id: str) -> set[str]:
        contact = self.contacts.get(contact_id)
        return set(contact.tags) if contact else set()

    def by_email(self, email: str) -> str | None:
        return next((c.id for c in self.contacts.values() if c.email == email), None)

    def requester_of(self, case_id: str) -> str | None:
        return self.cases.get(case_id)


class MemoryResume:
    """ResumeQueue: the pages queued, read back by `drain` (what the queue's consumer does)."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, str | None]] = []

    def resume(self, journey_id: str, cursor: str | None) -> None:
        self.queued.append((journey_id, cursor))


class World:
    """A runner on fakes, with the clock and the scheduler driven by the test."""

    def __init__(self, crash_at: Collection[int] = (), crash_after: bool = False) -> None:
        self.clock = FixedClock(T0)
        self.journeys = MemoryJourneys()
        self.store = MemoryProgress(self.journeys)
        self.crashes = Crashes(self.store, crash_at, crash_after)
        self.timers = MemoryTimers()
        self.mail = MemoryMail()
        self.book = MemoryContactBook()
        self.resumes = MemoryResume()
        self.runner = JourneyRunner(
            journeys=self.journeys,
            progress=self.crashes,
            timers=self.timers,
            mail=self.mail,
            facts=self.book,
            editor=self.book,
            resolver=self.book,
            resume=self.resumes,
            clock=self.clock,
        )

    def event(self, detail_type: str, detail: Mapping[str, Any], event_id: str, source: str | None = None) -> str:
        """As the bus delivers it. Each event of ours carries its own `occurred_at`, so two events are
        two details; a duplicate delivery (the same id here) is the same detail (runner.entry_key)."""
        heard = catalogue.BY_TYPE.get(detail_type)
        src = source or (heard.source if heard else Source.CONTACTS)
        return self.runner.on_event(Delivery(detail_type, src, {"occurred_at": event_id, **detail}, event_id))

    def fire(self, timer: Timer) -> str:
        p = timer.payload
        return self.runner.on_timer(p["journey_id"], p["contact_id"], p["seq"])

    def advance(self, minutes: float) -> list[str]:
        """Move the clock, firing each timer that comes due on the way at its time."""
        until = self.clock.now() + timedelta(minutes=minutes)
        outcomes = []
        while (timer := self.timers.next_due(until)) is not None:
            self.clock.at = max(self.clock.at, timer.at)
            outcomes.append(self.fire(timer))
        self.clock.at = until
        return outcomes

    def deliver_due(self, minutes: float, attempts: int = 5) -> None:
        """As `advance`, but each due timer's message comes again after a Crash (as SQS does)."""
        until = self.clock.now() + timedelta(minutes=minutes)
        while (timer := self.timers.next_due(until)) is not None:
            self.clock.at = max(self.clock.at, timer.at)
            for _ in range(attempts):
                try:
                    self.fire(timer)
                    break
                except Crash:
                    continue
        self.clock.at = until

    def drain_resumes(self) -> int:
        pages = 0
        while self.resumes.queued:
            journey_id, cursor = self.resumes.queued.pop(0)
            self.runner.on_resume(journey_id, cursor)
            pages += 1
        return pages

    def progress(self, contact: str, journey_id: str = JOURNEY) -> Progress | None:
        return self.store.get(journey_id, contact)

    def counts(self, journey_id: str = JOURNEY, version: int = 1) -> dict[str, int]:
        return self.store.counts(journey_id, version)
