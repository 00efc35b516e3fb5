"""SQS (EventBridge: every event a timeline kind reads, and ContactErased) -> each contact's timeline."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import Envelope, consumer, envelope
from ecrm.contact360.compose import timeline_service
from ecrm.contact360.settings import TimelineSettings
from ecrm.contact360.timeline import TimelineService
from ecrm.observability import logger, metrics


@cache
def service() -> TimelineService:
    return timeline_service(TimelineSettings.from_env())


@consumer(envelope, name="Timeline")
def record(event: Envelope, _: LambdaContext) -> str:
    return service().record(event.source, event.detail_type, event.detail)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return record.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
