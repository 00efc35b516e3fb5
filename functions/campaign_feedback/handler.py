"""SES events (configuration set -> default bus) -> suppression, and delivery/open/click per recipient."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import feedback
from ecrm.campaigns.feedback import Effect, FeedbackService, Mark, Suppress
from ecrm.campaigns.settings import FeedbackSettings
from ecrm.consumer import consumer, json_object
from ecrm.observability import logger, metrics

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


@consumer(json_object, name="SesEvent")  # the service reads SES's own envelope (SesEvent)
def apply(envelope: dict[str, Any], _: LambdaContext) -> str:
    applied = service().handle(envelope)
    for metric in filter(None, map(_metric, applied)):
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info("ses event", detail_type=envelope.get("detail-type"), event_id=envelope.get("id"), applied=len(applied))
    return "Applied" if applied else "Unchanged"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return apply.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
