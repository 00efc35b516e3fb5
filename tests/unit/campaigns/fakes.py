"""In-memory stand-ins for the campaigns ports, with the conditions DynamoDB would enforce.

Each fake keeps one lock so that tests driving it from threads see the atomicity a conditional
write gives; each counts its calls so tests can say what was (not) read or written.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from ecrm.campaigns.errors import MailThrottled
from ecrm.campaigns.models import (
    Campaign,
    CampaignStats,
    Counts,
    Preferences,
    RunStage,
    SendBatch,
    SendKey,
    SendRecord,
    Stage,
    Suppression,
    address_key,
)
from ecrm.campaigns.ports import BatchProgress, MemberPage, Membership, Recipient, SlotTake
from ecrm.campaigns.segments import IndexQuery, Member, sort_key
from ecrm.clock import FixedClock
from ecrm.contacts.models import Contact
from ecrm.errors import AlreadyExists, Conflict, NotFound
from ecrm.events import DomainEvent
from ecrm.mail import Mail
from ecrm.timers import Recurrence, Timer

from tests.unit.fakes import RecordingPublisher

T = TypeVar("T", bound=Any)


class MemoryRepo(Generic[T]):
    """`events`: where each save's events go once it succeeded (the outbox, then the bus)."""

    def __init__(self, events: RecordingPublisher | None = None) -> None:
        self.items: dict[str, T] = {}
        self.events = events if events is not None else RecordingPublisher()
        self._lock = threading.Lock()

    def get(self, entity_id: str) -> T | None:
        return self.items.get(entity_id)

    def __getitem__(self, entity_id: str) -> T:
        return self.items[entity_id]

    def create(self, entity: T) -> None:
        with self._lock:
            if entity.id in self.items:
                raise AlreadyExists(entity.id)
            self.items[entity.id] = entity

    def save(self, entity: T, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        with self._lock:
            stored = self.items.get(entity.id)
            if stored is None or stored.version != expected_version:
                raise Conflict(entity.id)
            self.items[entity.id] = entity
            self.events.publish(events)

    def list(self, limit: int, cursor: str | None) -> tuple[list[T], str | None]:
        ordered = sorted(self.items.values(), key=lambda e: (e.created_at, e.id), reverse=True)
        start = int(cursor or 0)
        more = start + limit < len(ordered)
        return ordered[start : start + limit], str(start + limit) if more else None


class MemoryCampaigns(MemoryRepo[Campaign]):
    def live_triggered(self, detail_type: str) -> list[Campaign]:
        return [
            c
            for c in self.items.values()
            if c.status == "sending"
            and c.schedule.kind == "triggered"
            and getattr(c.schedule, "detail_type", None) == detail_type
        ]


class MemoryContacts:
    """ContactDirectory."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}

    def add(self, contact: Contact) -> Contact:
        self.contacts[contact.id] = contact
        return contact

    def get(self, contact_id: str) -> Contact | None:
        return self.contacts.get(contact_id)

    def find_by_email(self, email: str) -> Contact | None:
        return next((c for c in self.contacts.values() if c.email == email), None)


class MemoryIndex:
    """SegmentIndex and MembershipStore over the same items, as the table holds them."""

    def __init__(self, contacts: MemoryContacts | None = None) -> None:
        self.partitions: dict[str, dict[str, Member]] = defaultdict(dict)
        self.snapshots: dict[str, Membership] = {}
        self.queries: list[IndexQuery] = []
        self.counts_kept = True
        self.preferences: MemoryPreferences | None = None  # erased with the membership, as in the table
        self._contacts = contacts
        self._lock = threading.Lock()

    # SegmentIndex
    def query(self, query: IndexQuery, limit: int, cursor: str | None) -> MemberPage:
        self.queries.append(query)
        items = sorted(self.partitions.get(query.partition, {}).items())
        lower, upper = query.range.lower, query.range.upper
        keys = [(k, m) for k, m in items if (lower is None or k >= lower) and (upper is None or k < upper)]
        keys = [(k, m) for k, m in keys if cursor is None or k > cursor]
        page = keys[:limit]
        more = len(keys) > limit
        return MemberPage([m for _, m in page], page[-1][0] if more else None)

    def estimates(self, partitions: Collection[str]) -> dict[str, int]:
        if not self.counts_kept:
            return {}
        return {p: len(self.partitions[p]) for p in partitions if p in self.partitions}

    # MembershipStore
    def load(self, contact_id: str) -> Membership | None:
        return self.snapshots.get(contact_id)

    def store(self, member: Member, keys: frozenset[str], previous: frozenset[str], expected_version: int) -> None:
        with self._lock:
            current = self.snapshots.get(member.contact_id)
            if (current.version if current else 0) != expected_version:
                raise Conflict(member.contact_id)
            if self._contacts is not None and self._contacts.get(member.contact_id) is None:
                raise NotFound("contact")
            old_key = sort_key(current.member) if current else None
            for partition in previous | (current.keys if current else frozenset()):
                self.partitions[partition].pop(old_key or "", None)
            for partition in keys:
                self.partitions[partition][sort_key(member)] = member
            self.snapshots[member.contact_id] = Membership(member, keys, expected_version + 1)

    def drop(self, contact_id: str) -> None:
        with self._lock:
            current = self.snapshots.pop(contact_id, None)
            if current is not None:
                for partition in current.keys:
                    self.partitions[partition].pop(sort_key(current.member), None)
            if self.preferences is not None:
                self.preferences.items.pop(contact_id, None)

    def put(self, member: Member, keys: frozenset[str]) -> None:
        """Test setup: index a member directly."""
        current = self.snapshots.get(member.contact_id)
        self.store(member, keys, current.keys if current else frozenset(), current.version if current else 0)


class MemoryPreferences:
    def __init__(self, contacts: MemoryContacts | None = None, events: RecordingPublisher | None = None) -> None:
        self.events = events if events is not None else RecordingPublisher()
        self.items: dict[str, Preferences] = {}
        self.writes = 0
        self._contacts = contacts

    def get(self, contact_id: str) -> Preferences:
        return self.items.get(contact_id) or Preferences(contact_id=contact_id)

    def save(self, preferences: Preferences, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        if self.get(preferences.contact_id).version != expected_version:
            raise Conflict(preferences.contact_id)
        if self._contacts is not None and self._contacts.get(preferences.contact_id) is None:
            raise NotFound("contact")
        self.writes += 1
        self.items[preferences.contact_id] = preferences
        self.events.publish(events)


class MemorySuppressions:
    def __init__(self, events: RecordingPublisher | None = None) -> None:
        self.events = events if events is not None else RecordingPublisher()
        self.items: dict[str, Suppression] = {}

    def get(self, email: str) -> Suppression | None:
        return self.items.get(address_key(email))

    def add(self, email: str, suppression: Suppression, events: Sequence[DomainEvent] = ()) -> bool:
        current = self.items.get(address_key(email))
        if current is not None and (current.reason == "complained" or suppression.reason == current.reason):
            return False
        self.items[address_key(email)] = suppression
        self.events.publish(events)
        return True


class MemoryDirectory:
    """RecipientDirectory over the other fakes."""

    def __init__(
        self,
        contacts: MemoryContacts,
        preferences: MemoryPreferences,
        suppressions: MemorySuppressions,
        index: MemoryIndex,
    ) -> None:
        self._contacts = contacts
        self._preferences = preferences
        self._suppressions = suppressions
        self._index = index
        self.calls = 0

    def recipients(self, contact_ids: Sequence[str]) -> dict[str, Recipient]:
        self.calls += 1
        found = {}
        for cid in contact_ids:
            contact = self._contacts.get(cid)
            membership = self._index.load(cid)
            found[cid] = Recipient(
                contact_id=cid,
                contact=contact,
                preferences=self._preferences.get(cid),
                suppression=self._suppressions.get(contact.email) if contact else None,
                tier=membership.member.tier if membership else None,
            )
        return found


class MemoryStats:
    def __init__(self) -> None:
        self.total: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.variants: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, campaign_id: str, counter: str, n: int = 1, variant: int | None = None) -> None:
        self.total[campaign_id][counter] += n
        if variant is not None:
            self.variants[(campaign_id, variant)][counter] += n

    def get(self, campaign_id: str) -> CampaignStats:
        variants = {v: Counts(**dict(c)) for (cid, v), c in self.variants.items() if cid == campaign_id}
        return CampaignStats(campaign_id=campaign_id, total=Counts(**dict(self.total[campaign_id])), variants=variants)


_SETTLED_COUNTER = {"skipped": "suppressed", "failed": "failed", "unknown": "unknown"}


class MemorySendRecords:
    """Send records with the conditional writes and same-transaction counters the port promises."""

    def __init__(self, stats: MemoryStats) -> None:
        self.records: dict[SendKey, SendRecord] = {}
        self.flags: dict[SendKey, dict[str, datetime]] = defaultdict(dict)
        self.stats = stats
        self._lock = threading.RLock()

    def existing(self, keys: Sequence[SendKey]) -> dict[SendKey, SendRecord]:
        return {k: self.records[k] for k in keys if k in self.records}

    def claim(self, record: SendRecord, count_targeted: bool = False) -> SendRecord | None:
        with self._lock:
            current = self.records.get(record.key)
            if current is not None and current.status != "skipped":
                return current
            if current is None and count_targeted:
                self.stats.add(record.key.campaign_id, "targeted", 1, record.variant)
            self.records[record.key] = record
            return None

    def complete(self, claim: SendRecord, message_id: str, now: datetime) -> None:
        with self._lock:
            current = self.records.get(claim.key)
            if current is None or current.claim_id != claim.claim_id or current.status not in ("sending", "unknown"):
                return
            self._to_sent(current, message_id, now)

    def _to_sent(self, current: SendRecord, message_id: str, now: datetime) -> None:
        if current.status == "unknown":
            self.stats.add(current.key.campaign_id, "unknown", -1, current.variant)
        self.records[current.key] = current.model_copy(
            update={"status": "sent", "message_id": message_id, "settled_at": now}
        )
        self.stats.add(current.key.campaign_id, "sent", 1, current.variant)

    def release(self, key: SendKey, claim_id: str) -> None:
        with self._lock:
            current = self.records.get(key)
            if current is not None and current.status == "sending" and current.claim_id == claim_id:
                del self.records[key]

    def settle(self, record: SendRecord, count_targeted: bool = False) -> bool:
        with self._lock:
            current = self.records.get(record.key)
            if current is not None and not (current.status == "sending" and current.claim_id == record.claim_id):
                return False
            if current is None and count_targeted:
                self.stats.add(record.key.campaign_id, "targeted", 1, record.variant)
            self.records[record.key] = record
            self.stats.add(record.key.campaign_id, _SETTLED_COUNTER[record.status], 1, record.variant)
            return True

    def confirm(self, key: SendKey, message_id: str, now: datetime) -> bool:
        with self._lock:
            current = self.records.get(key)
            if current is None or current.status not in ("sending", "unknown"):
                return False
            self._to_sent(current, message_id, now)
            return True

    def mark(self, key: SendKey, engagement: str, at: datetime) -> bool:
        with self._lock:
            current = self.records.get(key)
            if current is None or engagement in self.flags[key]:
                return False
            self.flags[key][engagement] = at
            self.stats.add(key.campaign_id, engagement, 1, current.variant)
            return True

    def by_status(self, status: str) -> list[SendRecord]:
        return [r for r in self.records.values() if r.status == status]


class MemoryRuns:
    def __init__(self, stats: MemoryStats) -> None:
        self.stages: dict[tuple[str, str, Stage], RunStage] = {}
        self.markers: set[tuple[str, str, Stage, int, str]] = set()
        self.stats = stats
        self.fail_next_advance = False
        self._lock = threading.Lock()

    def get(self, campaign_id: str, run_id: str, stage: Stage) -> RunStage | None:
        return self.stages.get((campaign_id, run_id, stage))

    def create(self, stage: RunStage) -> bool:
        key = (stage.campaign_id, stage.run_id, stage.stage)
        with self._lock:
            if key in self.stages:
                return False
            self.stages[key] = stage
            return True

    def advance(self, stage: RunStage, expected_version: int, newly_targeted: int) -> None:
        if self.fail_next_advance:
            self.fail_next_advance = False
            raise RuntimeError("planner crashed before its checkpoint")
        key = (stage.campaign_id, stage.run_id, stage.stage)
        with self._lock:
            current = self.stages[key]
            if current.version != expected_version:
                raise Conflict("run stage moved")
            self.stages[key] = stage.model_copy(update={"done": current.done})  # `done` is the store's
            self.stats.add(stage.campaign_id, "targeted", newly_targeted)

    def restart(self, stage: RunStage, expected_version: int) -> RunStage:
        key = (stage.campaign_id, stage.run_id, stage.stage)
        with self._lock:
            current = self.stages[key]
            if current.version != expected_version:
                raise Conflict("run stage moved")
            self.stats.add(stage.campaign_id, "targeted", -current.targeted)
            fresh = current.restarted()
            self.stages[key] = fresh
            return fresh

    def complete_batch(self, campaign_id: str, run_id: str, stage: Stage, epoch: int, batch: str) -> BatchProgress:
        key = (campaign_id, run_id, stage)
        with self._lock:
            current = self.stages[key]
            marker = (campaign_id, run_id, stage, epoch, batch)
            if marker not in self.markers and epoch == current.epoch:
                self.markers.add(marker)
                current = current.model_copy(update={"done": current.done + 1})
                self.stages[key] = current
            return BatchProgress(done=current.done, finished=current.finished)


class MemoryQueue:
    def __init__(self) -> None:
        self.batches: list[SendBatch] = []

    def enqueue(self, batches: Sequence[SendBatch]) -> None:
        self.batches.extend(batches)

    def drain(self) -> list[SendBatch]:
        taken, self.batches = self.batches, []
        return taken


class MemoryTimers:
    """Timers and RecurringTimers."""

    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}
        self.recurring: dict[str, Recurrence] = {}
        self.cancelled: list[str] = []

    def set(self, timer: Timer) -> None:
        self.timers[timer.name] = timer

    def set_recurring(self, recurrence: Recurrence) -> None:
        self.recurring[recurrence.name] = recurrence

    def cancel(self, name: str) -> None:
        self.cancelled.append(name)
        self.timers.pop(name, None)
        self.recurring.pop(name, None)

    def due(self, now: datetime) -> list[Timer]:
        """Pop the timers due at `now`, earliest first (what the scheduler would fire)."""
        fired = sorted((t for t in self.timers.values() if t.at <= now), key=lambda t: t.at)
        for t in fired:
            del self.timers[t.name]
        return fired


class MemorySlots:
    def __init__(self) -> None:
        self.used: dict[int, int] = defaultdict(int)
        self.writes = 0
        self._lock = threading.Lock()

    def take(self, slot: int, count: int, limit: int) -> SlotTake:
        with self._lock:
            self.writes += 1
            if self.used[slot] + count > limit:
                return SlotTake(False, self.used[slot])
            self.used[slot] += count
            return SlotTake(True, self.used[slot])


class MemoryFeedbackLog:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    def seen(self, event_id: str) -> bool:
        return event_id in self.ids

    def record(self, event_id: str, now: datetime) -> None:
        self.ids.add(event_id)


class Crash(BaseException):
    """The process dies: nothing after this line runs (BaseException, so no `except Exception`
    in the code under test can swallow it)."""


class FakeSes:
    """CampaignMailer. `script` holds what the next calls do: an exception to raise before
    accepting, "crash-after" to accept and then die, or None to accept normally."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        self.sent: list[tuple[Mail, dict[str, str]]] = []
        self.script: list[BaseException | str | None] = []
        self.calls = 0
        self.clock = clock
        self.call_times: list[datetime] = []

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        self.calls += 1
        if self.clock is not None:
            self.call_times.append(self.clock.now())
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        self.sent.append((mail, dict(tags)))
        if step == "crash-after":
            raise Crash("died after SES accepted the mail")
        return f"ses-{len(self.sent)}"

    def to(self) -> list[str]:
        return [m.to for m, _ in self.sent]


class ThrottlingSes(FakeSes):
    """An SES stand-in that throttles above `rate` calls per wall-clock second of `clock`."""

    def __init__(self, clock: FixedClock, rate: int) -> None:
        super().__init__(clock)
        self.rate = rate
        self.per_second: dict[int, int] = defaultdict(int)
        self.throttled = 0

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        second = int(self.clock.now().timestamp()) if self.clock else 0
        if self.per_second[second] >= self.rate:
            self.throttled += 1
            raise MailThrottled("Maximum sending rate exceeded.")
        self.per_second[second] += 1
        return super().send(mail, tags)


class SleepingClock(FixedClock):
    """A clock that is also the Sleeper: sleeping moves time."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)
