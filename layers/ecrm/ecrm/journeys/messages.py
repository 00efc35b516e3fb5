"""What arrives on the runner's queue, told apart: an EventBridge event (our bus or SES's on the
default bus), a wait's timer payload, or a page of contacts to resume."""

from __future__ import annotations

from pydantic import ValidationError

from ecrm.consumer import Envelope, Unprocessable, envelope, json_object
from ecrm.journeys.models import ResumePage, TimerFire
from ecrm.journeys.runner import Delivery

RunnerMessage = Delivery | TimerFire | ResumePage


def parse_message(body: str) -> RunnerMessage:
    value = json_object(body)
    if "detail-type" in value:
        event: Envelope = envelope(body)
        if not event.id:
            raise Unprocessable("id", "missing from the envelope")
        return Delivery(event.detail_type, event.source, event.detail, event.id)
    kind = value.get("action")
    if kind not in ("timer", "resume"):
        raise Unprocessable("action", "neither an event, a timer nor a resume page")
    try:
        return TimerFire.model_validate(value) if kind == "timer" else ResumePage.model_validate(value)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()) or "body"
        raise Unprocessable(fields, ", ".join(sorted({e["type"] for e in exc.errors()}))) from None
