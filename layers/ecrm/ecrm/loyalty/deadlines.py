"""The loyalty timers (EventBridge Scheduler one-time schedules through the Timers port): when a
lot expires, when to warn about it, when to look at a member's tier again.

Names are derived from business keys, so setting one again (a redelivered accrual) moves the same
schedule instead of making a second. Every consumer re-checks the member item before acting,
because a timer may fire late, twice, or after what it was for has gone (consumed, expired).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from ecrm.loyalty.errors import first_field_error
from ecrm.loyalty.ledger import expires_at
from ecrm.loyalty.programme import Programme
from ecrm.model import Model, adapter
from ecrm.timers import Timer, timer_name


class LotExpiry(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["loyalty.lot-expiry"] = "loyalty.lot-expiry"
    member_id: str
    lot: str = Field(pattern=r"^\d{4}-\d{2}$")


class ExpiryWarning(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["loyalty.expiry-warning"] = "loyalty.expiry-warning"
    member_id: str
    lot: str = Field(pattern=r"^\d{4}-\d{2}$")


class TierReview(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["loyalty.tier-review"] = "loyalty.tier-review"
    member_id: str


TimerPayload = Annotated[LotExpiry | ExpiryWarning | TierReview, Field(discriminator="kind")]
_PAYLOAD: TypeAdapter[LotExpiry | ExpiryWarning | TierReview] = adapter(TimerPayload)


def parse_timer(payload: Mapping[str, Any]) -> LotExpiry | ExpiryWarning | TierReview:
    try:
        return _PAYLOAD.validate_python(payload)
    except ValidationError as exc:
        raise first_field_error(exc) from None


def lot_timers(member_id: str, lot: str, programme: Programme) -> list[Timer]:
    """The expiry of a lot and the warning before it."""
    expiry = expires_at(lot, programme.expiry_months)
    return [
        Timer(
            timer_name("loyalty-expire", member_id, lot), expiry, LotExpiry(member_id=member_id, lot=lot).model_dump()
        ),
        Timer(
            timer_name("loyalty-warn", member_id, lot),
            expiry - programme.warn_before,
            ExpiryWarning(member_id=member_id, lot=lot).model_dump(),
        ),
    ]


def tier_review_timer(member_id: str, at: datetime) -> Timer:
    """One per member: setting it again moves it, so reviews asked for close together run once."""
    return Timer(timer_name("loyalty-tier", member_id), at, TierReview(member_id=member_id).model_dump())
