"""SQS (EventBridge: every event a webhook type carries) -> one delivery per matching endpoint."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import Envelope, consumer, envelope
from ecrm.observability import logger, metrics
from ecrm.webhooks.compose import fan_out
from ecrm.webhooks.delivery import FanOut
from ecrm.webhooks.settings import FanOutSettings


@cache
def service() -> FanOut:
    return fan_out(FanOutSettings.from_env())


@consumer(envelope, name="WebhookEvent")
def fan(event: Envelope, _: LambdaContext) -> str:
    return service().on_event(event.source, event.detail_type, event.detail)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return fan.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
