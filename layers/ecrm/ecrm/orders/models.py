"""What the shop posts and what it is answered.

The bodies are the events' own fields, checked strictly: the shop's events are read tolerantly on
the bus (`ecrm.loyalty.shop`: a field we do not know is ignored), but a request that names an
unknown field is refused here with the field named, so a misspelt `emial` never passes silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt

from ecrm.loyalty.money import Currency
from ecrm.loyalty.shop import MAX_LINES, BusinessId, OrderLine, OrderPlaced, OrderRefunded, RefundLine
from ecrm.model import Model

_STRICT = ConfigDict(frozen=True, extra="forbid")


class OrderLineRequest(OrderLine):
    model_config = _STRICT


class RefundLineRequest(RefundLine):
    model_config = _STRICT


class OrderRequest(OrderPlaced):
    """An order as the shop placed it: `OrderPlaced.v1`'s detail."""

    model_config = _STRICT
    lines: list[OrderLineRequest] = Field(min_length=1, max_length=MAX_LINES)  # type: ignore[assignment]


class RefundRequest(Model):
    """A refund of the order the path names: `OrderRefunded.v1`'s detail but `order_id`."""

    model_config = _STRICT

    refund_id: BusinessId
    amount_minor: Annotated[StrictInt, Field(ge=1, le=10**12)]
    currency: Currency | None = None
    lines: list[RefundLineRequest] = Field(default_factory=list, max_length=MAX_LINES)
    refunded_at: AwareDatetime | None = None

    def event(self, order_id: str) -> OrderRefunded:
        """The event for the order (its checks across fields, the lines within the amount, run here)."""
        return OrderRefunded.model_validate({"order_id": order_id, **self.model_dump()})


class Accepted(Model):
    """The shop's order or refund is on the bus; the same answer for every repeat of the same body."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["order", "refund"]
    order_id: str
    refund_id: str | None = None
    event: str = Field(description="the detail-type put on the bus (`OrderPlaced.v1`, `OrderRefunded.v1`)")
    accepted_at: datetime = Field(description="when the first request with this body was accepted")
