"""The journeys' event: a webhook step reached (the webhooks capability delivers it)."""

from __future__ import annotations

from typing import ClassVar

from ecrm.events import DomainEvent
from ecrm.journeys.names import DetailType
from ecrm.names import Source


class JourneyStepReached(DomainEvent):
    source: ClassVar[str] = Source.JOURNEYS
    detail_type: ClassVar[str] = DetailType.JOURNEY_STEP_REACHED

    journey_id: str
    version: int
    step_id: str
    label: str
    contact_id: str
    entry: int
