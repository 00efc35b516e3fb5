"""The gateway's one use case: a shop's order or refund onto the bus, once per id.

A repeat is recognised by the order id (and the refund id), and its body by a digest of the event
it makes: the same body again is answered as the first time and publishes nothing once the first
was published; another body under the same id is a 409. The answer is given only after the event
is on the bus; a request that failed to publish leaves its acceptance unpublished, and the shop's
retry publishes it. Should the process stop between the bus and `mark_published`, the retry
publishes the event a second time: consumers are idempotent on the order and refund ids
(decision 52), as they already are for a shop that sends the same event twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ecrm.clock import Clock
from ecrm.errors import Conflict
from ecrm.loyalty.shop import OrderRefunded, ShopEvent
from ecrm.orders.models import Accepted, OrderRequest, RefundRequest
from ecrm.orders.ports import AcceptanceKey, AcceptanceStore, ShopPublisher


@dataclass(frozen=True)
class Outcome:
    accepted: Accepted
    replayed: bool  # this body was accepted and published before: nothing new happened


@dataclass(frozen=True)
class OrderGateway:
    acceptances: AcceptanceStore
    publisher: ShopPublisher
    clock: Clock

    def place(self, order: OrderRequest) -> Outcome:
        # The request is an OrderPlaced (stricter at the door): it is the event, validated once.
        key = AcceptanceKey(order.order_id)
        return self._accept(key, order, f"order {order.order_id} was posted before with a different body")

    def refund(self, order_id: str, request: RefundRequest) -> Outcome:
        event: OrderRefunded = request.event(order_id)
        key = AcceptanceKey(order_id, request.refund_id)
        return self._accept(
            key, event, f"refund {request.refund_id} of order {order_id} was posted before with a different body"
        )

    def _accept(self, key: AcceptanceKey, event: ShopEvent, conflict: str) -> Outcome:
        digest = hashlib.sha256(event.model_dump_json(exclude_none=True).encode()).hexdigest()
        try:
            acceptance = self.acceptances.accept(key, digest, self.clock.now())
        except Conflict:
            raise Conflict(conflict) from None
        if not acceptance.published:
            self.publisher.publish(event)
            self.acceptances.mark_published(key, digest, self.clock.now())
        accepted = Accepted(
            kind="refund" if key.refund_id else "order",
            order_id=key.order_id,
            refund_id=key.refund_id,
            event=event.detail_type,
            accepted_at=acceptance.accepted_at,
        )
        return Outcome(accepted, replayed=acceptance.published)
