"""SQS (EventBridge SlaWarning, CaseEscalated, CaseCommented, CaseSolved) -> case mail, once per business key."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import mailer_service
from ecrm.cases.events import CASE_EVENT_TYPES
from ecrm.cases.mailer import CaseMailer
from ecrm.observability import logger, metrics
from ecrm.settings import CaseMailerSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> CaseMailer:
    return mailer_service(CaseMailerSettings.from_env())


def send(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    event = CASE_EVENT_TYPES[envelope["detail-type"]].model_validate(envelope["detail"])
    sent = service().handle(event)
    if sent:
        metrics.add_metric(name="CaseMailSent", unit=MetricUnit.Count, value=sent)
    logger.info("case event mailed", detail_type=event.detail_type, case_id=event.case_id, sent=sent)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=send, processor=processor, context=context)
