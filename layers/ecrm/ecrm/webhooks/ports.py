"""What the webhooks capability needs from the outside world: its table (endpoints, deliveries,
send counters), name resolution, and an HTTP client that posts to one checked address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ecrm.webhooks.models import AttemptMessage, AttemptRecord, Delivery, DeliveryPage, StoredEndpoint


class HostDirectory(Protocol):
    """Name resolution: every address a host name resolves to (empty: none)."""

    def addresses(self, host: str) -> list[str]: ...


@dataclass(frozen=True)
class PostResult:
    """What one POST came to: the status (None: no answer), the answer's Retry-After in seconds,
    the start of its body, how long it took, and the error when there was no answer."""

    status: int | None
    latency_ms: int
    retry_after: float | None = None
    excerpt: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(Protocol):
    """POSTs a body to `url`, connecting to `address` (checked) with `host` as the TLS and Host name."""

    def post(
        self, url: str, address: str, headers: dict[str, str], body: str, timeout_seconds: float
    ) -> PostResult: ...


class EndpointRepository(Protocol):
    """Endpoints, versioned (a write names the version it replaces)."""

    def create(self, endpoint: StoredEndpoint) -> None: ...
    def get(self, endpoint_id: str) -> StoredEndpoint | None: ...
    def all(self) -> list[StoredEndpoint]: ...
    def save(self, endpoint: StoredEndpoint, expected_version: int) -> None:
        """Conflict when the stored version is not `expected_version`."""
        ...

    def delete(self, endpoint_id: str) -> bool: ...


class DeliveryLog(Protocol):
    """Each endpoint's deliveries, by message id (time-ordered), with their attempts."""

    def add(self, delivery: Delivery, contact_id: str | None, keep_until: datetime) -> bool:
        """Keep a new delivery; False when it is there already (the same event again)."""
        ...

    def get(self, endpoint_id: str, message_id: str) -> Delivery | None: ...
    def page(self, endpoint_id: str, limit: int, cursor: str | None) -> DeliveryPage:
        """Newest first."""
        ...

    def between(self, endpoint_id: str, first: str, last: str, limit: int) -> list[Delivery]:
        """Deliveries whose message ids sort between `first` and `last`, oldest first."""
        ...

    def claim(self, endpoint_id: str, message_id: str, attempt: int, now: datetime, stale_before: datetime) -> bool:
        """Attempt `attempt + 1` taken: True if the delivery stood at `attempt` done (or an earlier
        claim of this attempt was abandoned before `stale_before`)."""
        ...

    def settle(
        self,
        delivery: Delivery,
        record: AttemptRecord,
        status: str,
        next_attempt_at: datetime | None,
        claimed_at: datetime,
    ) -> None:
        """The attempt's outcome logged, the delivery's status and next attempt set (its claim released)."""
        ...

    def reopen(self, endpoint_id: str, message_id: str, attempts: int, now: datetime) -> bool:
        """A settled delivery (delivered, failed, cancelled) pending again from now; False if it
        was pending or changed meanwhile."""
        ...

    def cancel(self, endpoint_id: str, message_id: str, attempts: int) -> None: ...

    def forget_answers(self, contact_id: str) -> int:
        """An erased contact: blank the receivers' answers logged on every delivery naming it, and
        mark those deliveries so answers to later attempts are not kept either; how many changed."""
        ...


class RateStore(Protocol):
    """Per-endpoint counts of attempts in each second: the rate bound."""

    def take(self, endpoint_id: str, second: int, limit: int) -> bool:
        """One of the `limit` sends of that second taken; False when they are all gone."""
        ...


class AttemptQueue(Protocol):
    """Attempt messages handed to the delivery consumer now."""

    def enqueue(self, messages: list[AttemptMessage]) -> None: ...
