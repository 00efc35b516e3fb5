"""What arrives on the runner's queue, told apart: an EventBridge event (our bus or SES's on the
default bus), a wait's timer payload, or a page of contacts to resume."""

from __future__ import annotations

from ecrm.consumer import Envelope, Parser, Unprocessable, envelope, json_object, model
from ecrm.journeys.models import ResumePage, TimerFire
from ecrm.journeys.runner import Delivery

RunnerMessage = Delivery | TimerFire | ResumePage
# the platform's parsers (a ValidationError becomes Unprocessable naming the fields)
_PAYLOADS: dict[str, Parser[TimerFire] | Parser[ResumePage]] = {"timer": model(TimerFire), "resume": model(ResumePage)}


def parse_message(body: str) -> RunnerMessage:
    value = json_object(body)
    if "detail-type" in value:
        event: Envelope = envelope(body)
        if not event.id:
            raise Unprocessable("id", "missing from the envelope")
        return Delivery(event.detail_type, event.source, event.detail, event.id)
    parse = _PAYLOADS.get(str(value.get("action")))
    if parse is None:
        raise Unprocessable("action", "neither an event, a timer nor a resume page")
    return parse(body)
