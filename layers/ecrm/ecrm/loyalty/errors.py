"""What the loyalty domain raises on purpose (the API maps the base classes to 4xx in one place)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ecrm.errors import Conflict, InvalidInput


class InsufficientPoints(Conflict):
    """A redemption or a negative adjustment asked for more than the member's usable points."""

    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(f"{wanted} points wanted, {available} available")
        self.wanted = wanted
        self.available = available


class MalformedEvent(InvalidInput):
    """An incoming event that can never be applied: the consumer reports it as failed so that it
    ends in the dead-letter queue, untouched by the ledger. `field` is a dotted path ("total.amount_minor")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message, status=422)


def first_field_error(exc: ValidationError) -> MalformedEvent:
    """The first pydantic error as a MalformedEvent naming its field path."""
    err: dict[str, Any] = dict(exc.errors()[0])
    field = ".".join(str(part) for part in err.get("loc", ())) or "detail"
    return MalformedEvent(field, str(err.get("msg", "invalid")))
