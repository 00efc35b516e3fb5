"""What the campaigns domain needs from the outside world.

Every port is shaped for the one DynamoDB table (key design in docs/campaigns.md): each method is
one GetItem, Query, conditional write or transaction there, so the adapters stay thin and the
guarantees (at most one claim per send, one count per outcome) come from conditions DynamoDB
enforces, not from the code calling them. The in-memory fakes in tests/unit/campaigns implement the
same conditions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from ecrm.campaigns.models import (
    Campaign,
    CampaignStats,
    Preferences,
    RunStage,
    SendBatch,
    SendKey,
    SendRecord,
    Stage,
    Suppression,
)
from ecrm.campaigns.segments import IndexQuery, Member
from ecrm.contacts.models import Contact
from ecrm.events import DomainEvent
from ecrm.mail import Mail

__all__ = [
    "BatchProgress",
    "CampaignMailer",
    "CampaignRepository",
    "ContactDirectory",
    "Engagement",
    "FeedbackLog",
    "MemberPage",
    "Membership",
    "MembershipStore",
    "PreferencesStore",
    "RateSlotStore",
    "Recipient",
    "RecipientDirectory",
    "Repository",
    "RunStore",
    "SegmentIndex",
    "SendQueue",
    "SendStore",
    "SlotTake",
    "StatsStore",
    "SuppressionStore",
]

T = TypeVar("T")


class Repository(Protocol[T]):
    """Templates, segments and campaigns: one item each, optimistic locking on `version`."""

    def get(self, entity_id: str) -> T | None: ...
    def create(self, entity: T) -> None:
        """Raise AlreadyExists if the id is taken."""
        ...

    def save(self, entity: T, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        """Write if the stored version is still `expected_version`, else raise Conflict. `events`
        (in every write here) commit with the write or not at all: the transactional outbox."""
        ...

    def list(self, limit: int, cursor: str | None) -> tuple[list[T], str | None]:
        """Newest first, one Query page on the listing index; the cursor is opaque."""
        ...


class CampaignRepository(Repository[Campaign], Protocol):
    def live_triggered(self, detail_type: str) -> list[Campaign]:
        """Triggered campaigns currently live (status `sending`) for this event type. `save` keeps
        a `TRIGGER#<detail type>` item per live campaign in the same transaction, so this is a
        Query on that partition."""
        ...


# -- the segment index -------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberPage:
    members: list[Member]
    cursor: str | None  # None on the last page


class SegmentIndex(Protocol):
    def query(self, query: IndexQuery, limit: int, cursor: str | None) -> MemberPage:
        """One Query page of index partition `query.partition` within its sort-key range, in sort
        order, each item's member snapshot decoded. Never a Scan."""
        ...

    def estimates(self, partitions: Collection[str]) -> dict[str, int]:
        """Item counts of the partitions the index keeps counts for (missing ones are unknown)."""
        ...


@dataclass(frozen=True)
class Membership:
    member: Member
    keys: frozenset[str]
    version: int


class MembershipStore(Protocol):
    """The contact's member snapshot (`CONTACT#<id>` / `MEMBER`) and its index items
    (`CONTACT#<id>` / `SEG#…`, index key = the partition, sort key = activity#id)."""

    def load(self, contact_id: str) -> Membership | None: ...
    def store(self, member: Member, keys: frozenset[str], previous: frozenset[str], expected_version: int) -> None:
        """In one transaction: write the snapshot at `expected_version + 1` (0: must not exist,
        else Conflict), put an index item for each of `keys` (carrying the snapshot) and delete
        those of `previous` (the keys stored at `expected_version`) no longer in `keys`. A
        ConditionCheck that the contact's profile still exists rides along (NotFound if not), so a
        refresh racing an erasure cannot bring the index items back. Then the partition counts move
        by the difference (planner estimates only: outside the transaction, see docs/campaigns.md)."""
        ...

    def drop(self, contact_id: str) -> None:
        """Erasure: remove the snapshot, every index item and the contact's preferences, moving
        the partition counts. Send records stay (ids only). Harmless when there is nothing."""
        ...


# -- contacts as the sender sees them ----------------------------------------------------------


class ContactDirectory(Protocol):
    """The part of the contacts repository campaigns read (DynamoContacts satisfies it)."""

    def get(self, contact_id: str) -> Contact | None: ...
    def find_by_email(self, email: str) -> Contact | None: ...


@dataclass(frozen=True)
class Recipient:
    contact_id: str
    contact: Contact | None  # None: erased, or never existed
    preferences: Preferences
    suppression: Suppression | None  # of the contact's current address
    tier: str | None = None  # from the member snapshot, for personalization


class RecipientDirectory(Protocol):
    def recipients(self, contact_ids: Sequence[str]) -> dict[str, Recipient]:
        """Batch-read profile, preferences and the address's suppression entry of every id (two
        BatchGetItem rounds: profiles and preferences, then suppression by address)."""
        ...


class SuppressionStore(Protocol):
    """Keyed by a hash of the normalized address (`SUPPRESS#<sha256>`): it outlives the contact."""

    def get(self, email: str) -> Suppression | None: ...
    def add(self, email: str, suppression: Suppression, events: Sequence[DomainEvent] = ()) -> bool:
        """Put if absent (a complaint also replaces a bounce); True if the entry is new or changed
        (and then `events` committed with it)."""
        ...


class PreferencesStore(Protocol):
    def get(self, contact_id: str) -> Preferences:
        """Stored preferences, or empty ones at version 0."""
        ...

    def save(self, preferences: Preferences, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        """Write at `expected_version + 1` (0: must not exist yet), else raise Conflict. A
        ConditionCheck that the contact's profile still exists rides along (NotFound if not), so a
        change racing an erasure cannot leave preferences behind."""
        ...


# -- sending -----------------------------------------------------------------------------------

Engagement = Literal["delivered", "opened", "clicked", "bounced", "soft_bounced", "complained", "unsubscribed"]


class SendStore(Protocol):
    """`CONTACT#<contact>` / `MAIL#campaign#<campaign>#<run>`: beside the contact, so a GDPR export
    lists it and an erasure deletes it. Every transition that changes a count updates the campaign's
    stats item (total and variant) in the same transaction, so counts are exact under retries."""

    def existing(self, keys: Sequence[SendKey]) -> dict[SendKey, SendRecord]:
        """Batch read: the records that exist among `keys`."""
        ...

    def claim(self, record: SendRecord, count_targeted: bool = False) -> SendRecord | None:
        """Put `record` (status `sending`) if no record of its key exists, or over a `skipped` one
        (a contact suppressed then may be mailed once eligible: "once" means once mailed), and
        return None; else change nothing and return the stored record
        (ReturnValuesOnConditionCheckFailure). `count_targeted`: a record that did not exist yet
        also counts +1 targeted, in the same write (triggered mail, which no planner counts)."""
        ...

    def complete(self, claim: SendRecord, message_id: str, now: datetime) -> None:
        """The record of this claim (`claim.claim_id`), `sending` (or `unknown` meanwhile) -> `sent`
        with the provider's message id: +1 sent (and -1 unknown). Any other record is left alone."""
        ...

    def release(self, key: SendKey, claim_id: str) -> None:
        """Delete the claim if it is still this `sending` claim: the provider refused the mail."""
        ...

    def settle(self, record: SendRecord, count_targeted: bool = False) -> bool:
        """Write a final `skipped`, `failed` or `unknown` record if none exists, or over the stored
        record if that is the same claim (`claim_id`) still `sending`: +1 suppressed / failed /
        unknown (and +1 targeted with `count_targeted` when the record is new). False, and nothing
        changes, otherwise."""
        ...

    def confirm(self, key: SendKey, message_id: str, now: datetime) -> bool:
        """The provider reports it accepted this mail ("Email Sent"): `sending`/`unknown` -> `sent`,
        as `complete` would have done. True if it changed the record."""
        ...

    def mark(self, key: SendKey, engagement: Engagement, at: datetime) -> bool:
        """Set `<engagement>_at` if unset and count it: True the first time only. A record that
        does not exist (erased contact) is not created."""
        ...


@dataclass(frozen=True)
class BatchProgress:
    done: int  # batches of the stage's current epoch completed so far (each counted once)
    finished: bool  # the stage is planned and every one of its batches is done


class RunStore(Protocol):
    """`CAMPAIGN#<id>` / `RUN#<run>#<stage>`, and a `BATCH#<run>#<stage>#<batch>` marker per
    completed batch (TTL)."""

    def get(self, campaign_id: str, run_id: str, stage: Stage) -> RunStage | None: ...
    def create(self, stage: RunStage) -> bool:
        """Put if absent; False if the stage exists already (a second planner)."""
        ...

    def advance(self, stage: RunStage, expected_version: int, newly_targeted: int) -> None:
        """Checkpoint the planner at `expected_version + 1` (else Conflict) and add
        `newly_targeted` to the campaign's `targeted` count in the same transaction."""
        ...

    def restart(self, stage: RunStage, expected_version: int) -> RunStage:
        """Plan the stage again from the start (after a pause): next epoch, position, batch and
        done counts zeroed, its `targeted` taken back out of the campaign's count. Returns it."""
        ...

    def complete_batch(self, campaign_id: str, run_id: str, stage: Stage, epoch: int, batch: str) -> BatchProgress:
        """Record the batch as done: a conditional put of its marker, then +1 `done` on the stage
        item if `epoch` is still the stage's epoch, so a redelivered batch counts once and a batch
        from before a restart not at all."""
        ...


class CampaignMailer(Protocol):
    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        """Send through SES with the configuration set and these message tags (they come back on
        every SES event for the mail); return SES's message id. Raise MailThrottled, SendingPaused
        or MailRejected when SES refused the request, MailOutcomeUnknown when nobody knows."""
        ...


class SendQueue(Protocol):
    def enqueue(self, batches: Sequence[SendBatch]) -> None:
        """SendMessageBatch, ten at a time; raise if any entry still fails after retries."""
        ...


class StatsStore(Protocol):
    def get(self, campaign_id: str) -> CampaignStats: ...


class FeedbackLog(Protocol):
    """SES event ids already applied (`SESEVENT#<id>`, TTL a few days): lets a redelivered event
    skip its reads and writes. Correctness never depends on it: every effect is idempotent."""

    def seen(self, event_id: str) -> bool: ...
    def record(self, event_id: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class SlotTake:
    granted: bool
    used: int  # the slot's count after the take, or as found when it was refused


class RateSlotStore(Protocol):
    def take(self, slot: int, count: int, limit: int) -> SlotTake:
        """Atomically add `count` to slot `slot` if the result stays within `limit`; else change
        nothing and report the count found."""
        ...
