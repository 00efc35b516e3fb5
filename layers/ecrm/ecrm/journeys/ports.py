"""What the journeys need from the outside world."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ecrm.events import DomainEvent
from ecrm.journeys.models import Definition, Journey, JourneyVersion, Progress

if TYPE_CHECKING:
    from ecrm.contacts.models import Contact


class JourneyRepository(Protocol):
    """Journeys (revisioned), their versions (immutable once written) and their live list."""

    def get(self, journey_id: str) -> Journey | None: ...

    def definition(self, journey_id: str, version: int) -> Definition | None:
        """A version's definition; versions never change, so an adapter may keep them."""
        ...

    def live(self) -> Sequence[tuple[Journey, Definition]]:
        """The live journeys with their newest definitions: who may let a contact in. An entry is
        written only while the journey is still live (`Move.live`): a journey paused since this
        was read admits nobody."""
        ...

    def create(self, journey: Journey, version: JourneyVersion) -> None: ...

    def save(self, journey: Journey, expected_revision: int, version: JourneyVersion | None = None) -> None:
        """Write `journey` (and a new version) if the stored revision is still `expected_revision`,
        else Conflict."""
        ...

    def all(self) -> Sequence[Journey]: ...


@dataclass(frozen=True)
class Move:
    """One contact's step in one journey, written once: `after` replaces `before` only if the
    stored progress is still `before` (its `rev`; absent for a first entry), with the step's
    counters and event in the same transaction. `live` also requires the journey to be live."""

    before: Progress | None
    after: Progress
    counts: Mapping[str, int] = field(default_factory=dict)
    live: bool = False
    events: Sequence[DomainEvent] = ()


class ProgressStore(Protocol):
    def of_contact(self, contact_id: str) -> Sequence[Progress]:
        """Every journey the contact is or was in (one Query on the contact's partition)."""
        ...

    def get(self, journey_id: str, contact_id: str) -> Progress | None: ...

    def move(self, move: Move) -> bool:
        """False if the progress moved on first (or the journey is not live when required)."""
        ...

    def held(self, journey_id: str, limit: int, cursor: str | None) -> tuple[Sequence[Progress], str | None]:
        """Contacts held while the journey was paused, a page at a time."""
        ...

    def forget(self, contact_id: str) -> int:
        """Delete the contact's progress and mail claims in every journey (erasure)."""
        ...


class StatsStore(Protocol):
    def counts(self, journey_id: str, version: int) -> dict[str, int]:
        """The counters `Move.counts` added up, for one version."""
        ...


class JourneyMailer(Protocol):
    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        """Send the step's mail at most once for this progress' entry and step visit (`seq`):
        `sent`, `skipped` (no consent, suppressed, unsubscribed, erased), or `failed` (refused for
        good, kept with its reason). RetryLater when the account cannot send now."""
        ...


@dataclass(frozen=True)
class Facts:
    """What a branch reads: the contact as they are now, and their loyalty tier."""

    contact: Contact | None
    tier: str | None = None


class FactsSource(Protocol):
    def facts(self, contact_id: str) -> Facts: ...


class ContactStore(Protocol):
    def edit(
        self,
        contact_id: str,
        actor: str,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        fields: Mapping[str, str] | None = None,
    ) -> bool:
        """Apply the change through the contacts' own update (ContactUpdated when it changes
        anything); False when the contact is gone. Doing it twice changes nothing."""
        ...


class OwnerDirectory(Protocol):
    def by_email(self, email: str) -> str | None: ...

    def requester_of(self, case_id: str) -> str | None: ...


class ResumeQueue(Protocol):
    def resume(self, journey_id: str, cursor: str | None) -> None:
        """Queue a page of held contacts to move on (the runner reads it)."""
        ...
