"""Money as integer minor units plus an ISO-4217 currency code. Never a float, anywhere."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from ecrm.model import Model

# A bound that keeps every product of amounts, rates and multipliers inside the 38 significant
# digits a DynamoDB number holds (see rules.py).
MAX_MINOR = 10**12

Currency = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
# StrictInt: 12.0, "12" and True are rejected rather than coerced, so a float never becomes money.
MinorUnits = Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)]


class Money(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: MinorUnits
    currency: Currency
