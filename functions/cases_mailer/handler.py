"""SQS (EventBridge SlaWarning, CaseEscalated, CaseCommented, CaseSolved) -> case mail, once per business key."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import mailer_service
from ecrm.cases.events import CASE_EVENT_TYPES, CaseEvent
from ecrm.cases.mailer import CaseMailer
from ecrm.cases.settings import CaseMailerSettings
from ecrm.consumer import consumer, event
from ecrm.observability import logger, metrics


@cache
def service() -> CaseMailer:
    return mailer_service(CaseMailerSettings.from_env())


@consumer(event(CASE_EVENT_TYPES), name="CaseMailEvent")
def send(case_event: CaseEvent, _: LambdaContext) -> str:
    sent = service().handle(case_event)
    if sent:
        metrics.add_metric(name="CaseMailSent", unit=MetricUnit.Count, value=sent)
    logger.info("case event mailed", detail_type=case_event.detail_type, case_id=case_event.case_id, sent=sent)
    return "Mailed" if sent else "Unchanged"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return send.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
