"""What the gateway needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ecrm.loyalty.shop import ShopEvent


@dataclass(frozen=True)
class AcceptanceKey:
    """One order, or one refund of an order: what a repeat of the same request is recognised by."""

    order_id: str
    refund_id: str | None = None


@dataclass(frozen=True)
class Acceptance:
    accepted_at: datetime
    published: bool  # its event is on the bus: a repeat publishes nothing


class AcceptanceStore(Protocol):
    def accept(self, key: AcceptanceKey, digest: str, now: datetime) -> Acceptance:
        """Record the first acceptance of `key` with the body's `digest`, or return the one already
        recorded with the same digest; ecrm.errors.Conflict if `key` was accepted with another."""
        ...

    def mark_published(self, key: AcceptanceKey, digest: str, now: datetime) -> None: ...


class ShopPublisher(Protocol):
    def publish(self, event: ShopEvent) -> None:
        """Put the event on the bus as the shop would (`source = shop`); ecrm.errors.Unavailable if
        the bus would not take it."""
        ...
