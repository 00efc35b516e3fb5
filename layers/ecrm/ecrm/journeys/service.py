"""The marketers' use cases: save a journey (a new version each time), start, pause, resume and
stop it, read its stats and where a contact stands in each journey."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ecrm.clock import Clock
from ecrm.errors import Conflict, NotFound
from ecrm.journeys.definitions import Known, check
from ecrm.journeys.models import (
    Branch,
    ChoiceStats,
    ContactJourneys,
    Definition,
    Journey,
    JourneyCreate,
    JourneyList,
    JourneyRevise,
    JourneyStats,
    JourneyStatus,
    JourneyVersion,
    JourneyView,
    Split,
    StepStats,
)
from ecrm.journeys.ports import JourneyRepository, ProgressStore, ResumeQueue, StatsStore

# Which status each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[JourneyStatus, ...], JourneyStatus]] = {
    "start": (("draft",), "live"),
    "pause": (("live",), "paused"),
    "resume": (("paused",), "live"),
    "stop": (("draft", "live", "paused"), "stopped"),
}


class JourneyAdmin:
    def __init__(
        self,
        *,
        journeys: JourneyRepository,
        progress: ProgressStore,
        stats: StatsStore,
        resume: ResumeQueue,
        known: Known,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._journeys = journeys
        self._progress = progress
        self._stats = stats
        self._resume = resume
        self._known = known
        self._clock = clock
        self._new_id = new_id

    def create(self, request: JourneyCreate, actor: str) -> JourneyView:
        check(request.definition, self._known)
        now = self._clock.now()
        journey = Journey(
            id=self._new_id(), name=request.definition.name, status="draft", version=1, created_at=now, updated_at=now
        )
        version = JourneyVersion(
            journey_id=journey.id, version=1, definition=request.definition, created_at=now, created_by=actor
        )
        self._journeys.create(journey, version)
        return JourneyView(journey=journey, definition=request.definition)

    def revise(self, journey_id: str, request: JourneyRevise, actor: str) -> JourneyView:
        """A new version: contacts who enter from now on get it; those on the way finish on theirs,
        unless `migrate` moves them to it at their next step (where it has the step they are at)."""
        check(request.definition, self._known)
        journey = self._journey(journey_id)
        if journey.status == "stopped":
            raise Conflict("a stopped journey is not edited: copy its definition into a new one")
        now = self._clock.now()
        number = journey.version + 1
        migrate = sorted(set(journey.migrate) | set(range(1, number))) if request.migrate else journey.migrate
        revised = journey.model_copy(
            update={
                "name": request.definition.name,
                "version": number,
                "migrate": migrate,
                "updated_at": now,
                "revision": journey.revision + 1,
            }
        )
        version = JourneyVersion(
            journey_id=journey.id, version=number, definition=request.definition, created_at=now, created_by=actor
        )
        self._journeys.save(revised, journey.revision, version)
        return JourneyView(journey=revised, definition=request.definition)

    def get(self, journey_id: str, version: int | None = None) -> JourneyView:
        journey = self._journey(journey_id)
        definition = self._journeys.definition(journey_id, version or journey.version)
        if definition is None:
            raise NotFound("journey version")
        return JourneyView(journey=journey, definition=definition)

    def list(self) -> JourneyList:
        return JourneyList(journeys=sorted(self._journeys.all(), key=lambda j: j.created_at, reverse=True))

    def act(self, journey_id: str, action: str, expected_revision: int | None = None) -> Journey:
        """start, pause, resume, stop. Repeating the one just done answers the journey as it is."""
        allowed_from, to = TRANSITIONS[action]
        journey = self._journey(journey_id)
        if expected_revision is not None and expected_revision != journey.revision:
            raise Conflict(f"the journey is at revision {journey.revision}, not {expected_revision}")
        if journey.status == to:
            return journey
        if journey.status not in allowed_from:
            raise Conflict(f"a {journey.status} journey cannot {action}")
        changed = journey.model_copy(
            update={"status": to, "updated_at": self._clock.now(), "revision": journey.revision + 1}
        )
        self._journeys.save(changed, journey.revision)
        if action == "resume":
            self._resume.resume(journey_id, None)  # the contacts held meanwhile, a page at a time
        return changed

    def stats(self, journey_id: str, version: int | None = None) -> JourneyStats:
        view = self.get(journey_id, version)
        number = version or view.journey.version
        return tally(journey_id, number, view.definition, self._stats.counts(journey_id, number))

    def contact(self, contact_id: str) -> ContactJourneys:
        return ContactJourneys(contact_id=contact_id, journeys=list(self._progress.of_contact(contact_id)))

    def _journey(self, journey_id: str) -> Journey:
        journey = self._journeys.get(journey_id)
        if journey is None:
            raise NotFound("journey")
        return journey


def tally(journey_id: str, version: int, definition: Definition, counts: dict[str, int]) -> JourneyStats:
    """Counters (runner.counter_key names) as the stats the API answers."""

    def count(*parts: str) -> int:
        return counts.get("|".join(parts), 0)

    steps = []
    for step in definition.steps:
        entered = count("s", step.id, "entered")
        done = count("s", step.id, "completed")
        goal = count("s", step.id, "goal")
        left = count("s", step.id, "left")
        steps.append(
            StepStats(
                step=step.id,
                type=step.type,
                entered=entered,
                completed=done,
                waiting=max(0, entered - done - goal - left),
                exited_by_goal=goal,
                mails_sent=count("s", step.id, "sent"),
                mails_skipped=count("s", step.id, "skipped") + count("s", step.id, "failed"),
                opened=count("s", step.id, "opened"),
                clicked=count("s", step.id, "clicked"),
            )
        )
    choices, winners = _choices(definition, count)
    entered = counts.get("entered", 0)
    return JourneyStats(
        journey_id=journey_id,
        version=version,
        entered=entered,
        completed=counts.get("completed", 0),
        exited_by_goal=counts.get("goal", 0),
        exited_other=counts.get("exited", 0),
        conversion_rate=round(counts.get("goal", 0) / entered, 4) if entered else 0.0,
        steps=steps,
        choices=choices,
        winners=winners,
    )


def _choices(definition: Definition, count: Callable[..., int]) -> tuple[list[ChoiceStats], dict[str, str]]:
    choices: list[ChoiceStats] = []
    winners: dict[str, str] = {}
    for step in definition.steps:
        if isinstance(step, Branch):
            names = [f"case-{i + 1}" for i in range(len(step.cases))] + ["else"]
        elif isinstance(step, Split):
            names = [arm.name for arm in step.arms]
        else:
            continue
        rows = []
        for name in names:
            taken, conversions = count("c", step.id, name, "taken"), count("c", step.id, name, "conv")
            rate = round(conversions / taken, 4) if taken else 0.0
            rows.append(
                ChoiceStats(step=step.id, choice=name, taken=taken, conversions=conversions, conversion_rate=rate)
            )
        choices += rows
        if isinstance(step, Split):
            best = max((r.conversion_rate for r in rows if r.taken), default=None)
            leaders = [r.choice for r in rows if r.taken and r.conversion_rate == best]
            if best is not None and len(leaders) == 1 and best > 0:
                winners[step.id] = leaders[0]
    return choices, winners
