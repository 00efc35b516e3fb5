"""What the loyalty domain needs from the outside world, and the shape of its one write.

Every change to the ledger is ONE `LedgerWrite`, which phase 2 maps to ONE TransactWriteItems:

    Put    each entry          MEMBER#<id> / ENTRY#<kind>#<key>   attribute_not_exists(pk)
    Put    the order record    ORDER#<order id> / ORDER           version = :expected (or not exists)
    Update the member item     MEMBER#<id> / MEMBER               ADD/REMOVE/SET below, guarded

so that an entry, the order's refund state and the balance move together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ecrm.errors import DomainError
from ecrm.events import DomainEvent
from ecrm.loyalty.models import LedgerEntry
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.state import MemberState, OrderRecord


@dataclass(frozen=True)
class MemberGuard:
    """Conditions on the member item, as it is before the write. A missing number counts as 0."""

    tier_version: int | None = None  # tier_version = :v (the tier this write priced with is still announced)
    balance_at_least: int = 0  # balance >= :n
    lots_at_least: Mapping[str, int] = field(default_factory=dict)  # lot:<m> >= :n
    lots_equal: Mapping[str, int] = field(default_factory=dict)  # lot:<m> = :n
    bucket_below: tuple[str, int] | None = None  # earned:<m> < :n (see tiers.TierDecision)


@dataclass(frozen=True)
class MemberChange:
    """An update of the member item that creates it when missing. The numbers are ADDs, so
    concurrent changes commute; only the tier is SET, and only under `guard.tier_version`."""

    balance: int = 0
    lots: Mapping[str, int] = field(default_factory=dict)
    earned: Mapping[str, int] = field(default_factory=dict)
    remove_lots: tuple[str, ...] = ()
    remove_buckets: tuple[str, ...] = ()
    tier: str | None = None  # SET tier = :t, tier_version = tier_version + 1
    guard: MemberGuard = MemberGuard()


@dataclass(frozen=True)
class OrderChange:
    """Put `record` (whose version is `expected_version + 1`) if the stored one is at `expected_version`."""

    record: OrderRecord
    expected_version: int  # 0: no record may exist yet


@dataclass(frozen=True)
class LedgerWrite:
    member_id: str | None  # None only when a refund is parked and no member is known yet
    entries: tuple[LedgerEntry, ...] = ()
    member: MemberChange | None = None
    order: OrderChange | None = None
    events: tuple[DomainEvent, ...] = ()  # committed with the write, or not at all (the outbox)


class AlreadyApplied(DomainError):
    """An entry's business key is in the ledger already: a duplicate. Nothing was written."""


class OrderChanged(DomainError):
    """The order record is not at the expected version. Nothing was written. `current` is the
    stored record when the adapter got it for free (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""

    def __init__(self, current: OrderRecord | None = None) -> None:
        super().__init__("order record changed")
        self.current = current


class MemberChanged(DomainError):
    """A member guard failed: somebody else moved the member first. Nothing was written; re-read."""


class LedgerRepository(Protocol):
    def get_member(self, member_id: str) -> MemberState | None: ...
    def get_order(self, order_id: str) -> OrderRecord | None: ...
    def get_entry(self, member_id: str, entry_id: str) -> LedgerEntry | None: ...

    def apply(self, write: LedgerWrite) -> None:
        """All of `write` or nothing, in one request. When conditions fail, raise the first that
        applies of AlreadyApplied (an entry exists), OrderChanged, MemberChanged. Transient errors
        (throttling) propagate: nothing or everything was written, and a retry finds out which."""
        ...

    def history(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Entries newest first, `limit` at a time; the cursor is opaque."""
        ...


class PersonalDataStore(Protocol):
    def erase_personal_data(self, member_id: str, at: datetime) -> int:
        """Strip the free text (an adjustment's reason, a redemption's reference) from the member's
        entries and mark the member erased; ids and numbers stay. Answers how many entries
        changed; repeating it changes nothing more."""
        ...


class MemberDirectory(Protocol):
    """Members are contacts: the contacts capability owns who they are."""

    def member_for(self, contact_id: str | None, email: str | None) -> str:
        """The member (contact) id for an order: the contact id when given, else the contact with
        that e-mail address, created when unknown."""
        ...


class ProgrammeRepository(Protocol):
    def current(self) -> StoredProgramme | None:
        """The newest stored version, or None when none was ever stored."""
        ...

    def save(self, stored: StoredProgramme, expected_version: int) -> None:
        """Store `stored` (version expected_version + 1) as current, or raise Conflict."""
        ...
