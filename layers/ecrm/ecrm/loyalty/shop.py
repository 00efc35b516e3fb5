"""The shop's events, as the accrual consumer reads them (`source = shop`, versioned detail-types).

Tolerant reader: fields we do not know are ignored, so the shop may add fields to a v1 event
without breaking us; a field we do know is strict (amounts are integers, never floats or bools).
A change to the meaning or type of a known field is a new version (`OrderPlaced.v2`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ecrm.loyalty.errors import MalformedEvent, first_field_error
from ecrm.loyalty.money import Currency, MinorUnits, Money
from ecrm.loyalty.names import DetailType
from ecrm.model import Model
from ecrm.names import Source
from ecrm.types import ContactId, Email

# Order and refund ids become parts of DynamoDB keys and timer names: a safe alphabet, bounded.
BusinessId = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")]
Code = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
Quantity = Annotated[StrictInt, Field(ge=1, le=1_000_000)]
MAX_LINES = 200


class ShopEvent(Model):
    model_config = ConfigDict(frozen=True, extra="ignore")
    detail_type: ClassVar[str]
    source: ClassVar[str] = Source.SHOP


class OrderLine(Model):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: Code
    category: Code
    quantity: Quantity
    amount_minor: MinorUnits = Field(description="the line's total, net of discounts, in the order's currency")


class OrderPlaced(ShopEvent):
    detail_type: ClassVar[str] = DetailType.ORDER_PLACED

    order_id: BusinessId
    email: Email | None = None
    contact_id: ContactId | None = Field(default=None, validate_default=True)
    total: Money = Field(description="what the customer paid: minimum order and amount-only refunds use it")
    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)
    placed_at: AwareDatetime

    @field_validator("contact_id")
    @classmethod
    def _someone(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Declared after `email`, so info.data holds it (when it was valid).
        if value is None and info.data.get("email") is None:
            raise ValueError("email or contact_id is required")
        return value


class RefundLine(Model):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: Code
    quantity: Quantity
    amount_minor: MinorUnits


class OrderRefunded(ShopEvent):
    detail_type: ClassVar[str] = DetailType.ORDER_REFUNDED

    order_id: BusinessId
    refund_id: BusinessId
    amount_minor: Annotated[StrictInt, Field(ge=1, le=10**12)]
    currency: Currency | None = None
    lines: list[RefundLine] = Field(default_factory=list, max_length=MAX_LINES)
    refunded_at: AwareDatetime | None = None

    @field_validator("lines")
    @classmethod
    def _within_amount(cls, value: list[RefundLine], info: ValidationInfo) -> list[RefundLine]:
        amount = info.data.get("amount_minor")
        if amount is not None and sum(line.amount_minor for line in value) > amount:
            raise ValueError("line amounts add up to more than amount_minor")
        return value


SHOP_EVENT_TYPES: dict[str, type[OrderPlaced] | type[OrderRefunded]] = {
    OrderPlaced.detail_type: OrderPlaced,
    OrderRefunded.detail_type: OrderRefunded,
}


def parse_shop_event(detail_type: str, detail: Mapping[str, Any]) -> OrderPlaced | OrderRefunded:
    """Validate an EventBridge `detail`, or raise MalformedEvent naming the first bad field."""
    model = SHOP_EVENT_TYPES.get(detail_type)
    if model is None:
        raise MalformedEvent("detail-type", f"not one of {sorted(SHOP_EVENT_TYPES)}")
    try:
        return model.model_validate(detail)
    except ValidationError as exc:
        raise first_field_error(exc) from None
