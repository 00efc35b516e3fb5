"""SQS (the fan-out, redeliveries and retry timers) -> one signed POST per attempt message."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, model
from ecrm.observability import logger, metrics
from ecrm.webhooks.compose import deliverer
from ecrm.webhooks.delivery import Deliverer
from ecrm.webhooks.models import AttemptMessage
from ecrm.webhooks.settings import DeliverySettings


@cache
def service() -> Deliverer:
    return deliverer(DeliverySettings.from_env())


# concurrent: a batch's POSTs go out at once, so a receiver that hangs holds none of the others
@consumer(model(AttemptMessage), name="WebhookAttempt", concurrent=True)
def attempt(message: AttemptMessage, _: LambdaContext) -> str:
    return service().attempt(message)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return attempt.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
