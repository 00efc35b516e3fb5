"""SES events (configuration set -> default bus) -> suppression, and delivery/open/click per recipient."""

import json
from functools import cache

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import feedback
from ecrm.campaigns.feedback import Effect, FeedbackService, Mark, Suppress
from ecrm.observability import logger, metrics
from ecrm.settings import FeedbackSettings

processor = BatchProcessor(event_type=EventType.SQS)
SUPPRESSION_METRICS = {"bounced": "MailHardBounce", "complained": "MailComplaint"}


@cache
def service() -> FeedbackService:
    return feedback(FeedbackSettings.from_env())


def _metric(effect: Effect) -> str | None:
    """One count per newly suppressed address, and per soft bounce of a campaign mail."""
    if isinstance(effect, Suppress):
        return SUPPRESSION_METRICS[effect.reason]
    if isinstance(effect, Mark) and effect.engagement == "soft_bounced":
        return "MailSoftBounce"
    return None


def apply(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    applied = service().handle(envelope)
    for metric in filter(None, map(_metric, applied)):
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info("ses event", detail_type=envelope.get("detail-type"), event_id=envelope.get("id"), applied=len(applied))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, object], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=apply, processor=processor, context=context)
