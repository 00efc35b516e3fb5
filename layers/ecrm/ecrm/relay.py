"""The outbox relay: a batch of the Outbox table's stream records -> PutEvents, at least once.

Lambda reads a stream shard in order and retries a batch from the record it is told failed, so
the answer names the first record whose event the bus still rejected: the ones before it are
done, it and the ones after are read again (some of those twice: consumers are idempotent on
business keys, decision 52).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ecrm import outbox


class EntryPublisher(Protocol):
    def put(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        """Put the entries on the bus: the positions of those still rejected after retries."""
        ...


@dataclass(frozen=True)
class Relayed:
    published: int
    failed_from: str | None  # sequence number of the first record to read again, if any


@dataclass(frozen=True)
class EventRelay:
    publisher: EntryPublisher
    bus: str

    def forward(self, records: Sequence[Mapping[str, Any]]) -> Relayed:
        sequence: list[str] = []
        entries: list[dict[str, Any]] = []
        for record in records:
            if record.get("eventName") != "INSERT":
                continue  # TTL removals and updates announce nothing
            entry = outbox.entry(record["dynamodb"].get("NewImage") or {}, self.bus)
            if entry is not None:
                sequence.append(record["dynamodb"]["SequenceNumber"])
                entries.append(entry)
        failed = self.publisher.put(entries)
        if not failed:
            return Relayed(published=len(entries), failed_from=None)
        first = min(failed)
        return Relayed(published=first, failed_from=sequence[first])
