"""Trigger queue (ConsentConfirmed, ContactCaptured, TierChanged) -> mail of the live triggered campaigns."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from datetime import UTC
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import triggers
from ecrm.campaigns.settings import TriggerSettings
from ecrm.campaigns.triggers import TriggerService
from ecrm.consumer import Envelope, Unprocessable, consumer, envelope
from ecrm.observability import logger, metrics


@cache
def service() -> TriggerService:
    return triggers(TriggerSettings.from_env())


@consumer(envelope, name="TriggerEvent")
def trigger(event: Envelope, _: LambdaContext) -> str:
    if not event.id or event.time is None:
        raise Unprocessable("id" if not event.id else "time", "missing from the envelope")
    at = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
    addressed = service().on_event(event.detail_type, event.detail, event.id, at)
    metrics.add_metric(name="TriggeredMailQueued", unit=MetricUnit.Count, value=len(addressed))
    logger.info("trigger", detail_type=event.detail_type, event_id=event.id, campaigns=addressed)
    return "Queued" if addressed else "Ignored"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return trigger.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
