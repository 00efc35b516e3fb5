"""Send queue -> render and send one batch through SES at the shared rate, each contact at most once."""

from functools import cache

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import deadline, sender
from ecrm.campaigns.models import SendBatch
from ecrm.campaigns.sending import Outcome, Sender
from ecrm.observability import logger, metrics
from ecrm.settings import SenderSettings

# A batch handed back (throttled, account paused, out of time) is routine, not a function error: it
# is reported as a failed record rather than failing the invocation (and the error alarm with it).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
METRICS: dict[Outcome, str] = {
    "sent": "MailSent",
    "skipped": "MailSuppressed",
    "failed": "MailRejected",
    "unknown": "MailOutcomeUnknown",
}


class RetryLater(Exception):
    """Some recipients must be tried again (throttled, paused account, out of time): the message
    is reported as a batch item failure, and SQS brings it back; who got mail is skipped then."""


@cache
def service() -> Sender:
    return sender(SenderSettings.from_env())


def send(record: SQSRecord, lambda_context: LambdaContext) -> None:
    batch = SendBatch.model_validate_json(record.body)
    result = service().send(batch, deadline(lambda_context.get_remaining_time_in_millis()))
    for outcome, metric in METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=len(result.ids(outcome)))
    logger.info("batch", campaign_id=batch.campaign_id, batch=batch.batch, dropped=result.dropped)
    if not result.complete:
        raise RetryLater(f"{len(result.ids('retry'))} recipient(s) to try again")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, object], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=send, processor=processor, context=context)
