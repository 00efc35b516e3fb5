"""The journeys' ports in memory, for `make bench ONLY=journeys`: each counts its calls by method.

Minimal on purpose: what the runner needs to take 100,000 contacts into a journey and fire their
timers. `MemoryProgress.move` honours the same conditions as DynamoProgress.move (the stored `rev`,
the item's guard, is still the `before`'s; a first entry finds nothing stored; `live` needs the
journey live) and
adds the move's counters; `MemoryMailer` claims each mail under the shipped key (mailing.mail_key)
and sends it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from ecrm.journeys.mailing import mail_key
from ecrm.journeys.models import Definition, Journey, JourneyVersion, Progress
from ecrm.journeys.ports import Facts, Move
from ecrm.timers import Timer


class Calls:
    """Port calls by `port.method`, under the label the bench's runner probe sets (its step)."""

    def __init__(self) -> None:
        self.by: Counter[tuple[str, str]] = Counter()
        self.label = "-"

    def count(self, call: str) -> None:
        self.by[(self.label, call)] += 1


class MemoryJourneys:
    def __init__(self, calls: Calls, journey: Journey, definition: Definition) -> None:
        self._calls = calls
        self._journey = journey
        self._definition = definition

    def get(self, journey_id: str) -> Journey | None:
        self._calls.count("journeys.get")
        return self._journey if journey_id == self._journey.id else None

    def definition(self, journey_id: str, version: int) -> Definition | None:
        self._calls.count("journeys.definition")
        found = journey_id == self._journey.id and version == self._journey.version
        return self._definition if found else None

    def live(self) -> Sequence[tuple[Journey, Definition]]:
        self._calls.count("journeys.live")
        return [(self._journey, self._definition)] if self._journey.status == "live" else []

    def create(self, journey: Journey, version: JourneyVersion) -> None:
        raise NotImplementedError("the bench starts with its journey live")

    def save(self, journey: Journey, expected_revision: int, version: JourneyVersion | None = None) -> None:
        raise NotImplementedError("the bench starts with its journey live")

    def all(self) -> Sequence[Journey]:
        self._calls.count("journeys.all")
        return [self._journey]

    def is_live(self, journey_id: str) -> bool:
        """The store's own check of a `live` move (a ConditionCheck in its transaction): no call."""
        return journey_id == self._journey.id and self._journey.status == "live"


class MemoryProgress:
    def __init__(self, calls: Calls, journeys: MemoryJourneys) -> None:
        self._calls = calls
        self._journeys = journeys
        self.items: dict[tuple[str, str], Progress] = {}
        self.of: dict[str, list[str]] = {}  # contact -> journey ids (the contact's partition)
        self.counters: Counter[str] = Counter()
        self.lost = 0  # moves refused by their condition

    def of_contact(self, contact_id: str) -> Sequence[Progress]:
        self._calls.count("progress.of_contact")
        return [self.items[(j, contact_id)] for j in self.of.get(contact_id, ())]

    def get(self, journey_id: str, contact_id: str) -> Progress | None:
        self._calls.count("progress.get")
        return self.items.get((journey_id, contact_id))

    def move(self, move: Move) -> bool:
        self._calls.count("progress.move")
        after = move.after
        key = (after.journey_id, after.contact_id)
        stored = self.items.get(key)
        held = stored is None if move.before is None else stored is not None and stored.rev == move.before.rev
        live = not move.live or self._journeys.is_live(after.journey_id)
        if not held or not live:
            self.lost += 1
            return False
        if stored is None:
            self.of.setdefault(after.contact_id, []).append(after.journey_id)
        self.items[key] = after
        self.counters.update(move.counts)
        return True

    def held(self, journey_id: str, limit: int, cursor: str | None) -> tuple[Sequence[Progress], str | None]:
        self._calls.count("progress.held")
        return [], None

    def forget(self, contact_id: str) -> int:
        self._calls.count("progress.forget")
        return 0


class MemoryTimers:
    def __init__(self, calls: Calls) -> None:
        self._calls = calls
        self.timers: dict[str, Timer] = {}

    def set(self, timer: Timer) -> None:
        self._calls.count("timers.set")
        self.timers[timer.name] = timer

    def cancel(self, name: str) -> None:
        self._calls.count("timers.cancel")
        self.timers.pop(name, None)


class MemoryMailer:
    """A mail claimed under the shipped key in the contact's own claims (as DynamoProgress keeps
    them in the contact's partition), sent once: mails per contact, counted."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls
        self.claims: set[tuple[str, str]] = set()
        self.mails: Counter[str] = Counter()

    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        self._calls.count("mail.send")
        key = (progress.contact_id, mail_key(progress, step_id))
        if key not in self.claims:
            self.claims.add(key)
            self.mails[progress.contact_id] += 1
        return "sent"


class Nobody:
    """FactsSource, ContactStore, OwnerDirectory and ResumeQueue: a three-step send/wait/send
    journey needs none of them; each call is counted (and expected to be zero)."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    def facts(self, contact_id: str) -> Facts:
        self._calls.count("facts.facts")
        return Facts(contact=None)

    def edit(
        self,
        contact_id: str,
        actor: str,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        fields: Mapping[str, str] | None = None,
    ) -> bool:
        self._calls.count("editor.edit")
        return False

    def by_email(self, email: str) -> str | None:
        self._calls.count("resolver.by_email")
        return None

    def requester_of(self, case_id: str) -> str | None:
        self._calls.count("resolver.requester_of")
        return None

    def resume(self, journey_id: str, cursor: str | None) -> None:
        self._calls.count("resume.resume")
