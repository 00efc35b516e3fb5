"""Send queue -> render and send one batch through SES at the shared rate, each contact at most once."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import deadline, sender
from ecrm.campaigns.models import SendBatch
from ecrm.campaigns.sending import Outcome, Sender
from ecrm.campaigns.settings import SenderSettings
from ecrm.consumer import RetryLater, consumer, model
from ecrm.observability import logger, metrics

METRICS: dict[Outcome, str] = {
    "sent": "MailSent",
    "skipped": "MailSuppressed",
    "failed": "MailRejected",
    "unknown": "MailOutcomeUnknown",
}


@cache
def service() -> Sender:
    return sender(SenderSettings.from_env())


@consumer(model(SendBatch), name="SendBatch")
def send(batch: SendBatch, lambda_context: LambdaContext) -> str:
    result = service().send(batch, deadline(lambda_context.get_remaining_time_in_millis()))
    for outcome, metric in METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=len(result.ids(outcome)))
    logger.info("batch", campaign_id=batch.campaign_id, batch=batch.batch, dropped=result.dropped)
    if not result.complete:  # throttled, paused account, out of time: who got mail is skipped next time
        raise RetryLater(f"{len(result.ids('retry'))} recipient(s) to try again")
    return "Sent"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return send.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
