"""Plan queue (timers and hand-overs) -> start a run, page its segment onto the send queue, pick A/B winners."""

from functools import cache

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import deadline, planner
from ecrm.campaigns.runs import CampaignRuns, PlanCommand
from ecrm.observability import logger, metrics
from ecrm.settings import PlannerSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> CampaignRuns:
    return planner(PlannerSettings.from_env())


def plan(record: SQSRecord, lambda_context: LambdaContext) -> None:
    command = PlanCommand.model_validate_json(record.body)
    logger.info("plan command", action=command.action, campaign_id=command.campaign_id, run_id=command.run())
    service().handle(command, deadline(lambda_context.get_remaining_time_in_millis()))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, object], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=plan, processor=processor, context=context)
