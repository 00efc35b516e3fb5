"""Runner queue (bus events, SES engagement, due wait timers, resume pages) -> each contact's steps."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer
from ecrm.journeys.compose import journey_runner
from ecrm.journeys.messages import RunnerMessage, parse_message
from ecrm.journeys.runner import JourneyRunner
from ecrm.journeys.settings import JourneyRunnerSettings
from ecrm.observability import logger, metrics


@cache
def service() -> JourneyRunner:
    return journey_runner(JourneyRunnerSettings.from_env())


@consumer(parse_message, name="JourneyMessage")
def run(message: RunnerMessage, _: LambdaContext) -> str:
    outcome = service().handle(message)
    logger.info("journey message", kind=type(message).__name__, outcome=outcome)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return run.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
