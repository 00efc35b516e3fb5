"""Plan queue (timers and hand-overs) -> start a run, page its segment onto the send queue, pick A/B winners."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import deadline, planner
from ecrm.campaigns.runs import CampaignRuns, PlanCommand
from ecrm.campaigns.settings import PlannerSettings
from ecrm.consumer import consumer, model
from ecrm.observability import logger, metrics


@cache
def service() -> CampaignRuns:
    return planner(PlannerSettings.from_env())


@consumer(model(PlanCommand), name="PlanCommand")
def plan(command: PlanCommand, lambda_context: LambdaContext) -> None:
    logger.info("plan command", action=command.action, campaign_id=command.campaign_id, run_id=command.run())
    service().handle(command, deadline(lambda_context.get_remaining_time_in_millis()))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return plan.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
