"""EventBridge publisher: batches of at most 10, failed entries retried with backoff."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ecrm.errors import PublishFailed
from ecrm.events import DomainEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

MAX_BATCH = 10


class EventBridgePublisher:
    def __init__(
        self,
        client: EventBridgeClient,
        bus_name: str,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._bus = bus_name
        self._attempts = attempts
        self._sleep = sleep

    def publish(self, events: Sequence[DomainEvent]) -> None:
        failed = self.put([self._entry(e) for e in events])
        if failed:
            raise PublishFailed(f"{len(failed)} event(s) still rejected after {self._attempts} attempts")

    def put(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        """PutEvents in batches of ten, rejected entries retried with backoff: the positions (in
        `entries`) of those still rejected after every attempt."""
        failed: list[int] = []
        for start in range(0, len(entries), MAX_BATCH):
            failed += [start + i for i in self._put(entries[start : start + MAX_BATCH])]
        return failed

    def _put(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        pending = list(range(len(entries)))
        for attempt in range(self._attempts):
            result = self._client.put_events(Entries=[entries[i] for i in pending])  # type: ignore[misc]
            if not result.get("FailedEntryCount"):
                return []
            # Results line up with the request entries; only those carrying an ErrorCode failed.
            pending = [i for i, r in zip(pending, result["Entries"], strict=True) if r.get("ErrorCode")]
            if attempt < self._attempts - 1:
                self._sleep(0.05 * 2**attempt)
        return pending

    def _entry(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "Source": event.source,
            "DetailType": event.detail_type,
            "Detail": event.model_dump_json(),
            "EventBusName": self._bus,
        }
