"""SQS intake queue (e-mail-to-case, chat, partner systems) -> cases, once per channel message id."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import intake_service
from ecrm.cases.models import IntakeMessage
from ecrm.cases.service import CaseIntake
from ecrm.observability import logger, metrics
from ecrm.settings import CaseIntakeSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> CaseIntake:
    return intake_service(CaseIntakeSettings.from_env())


def receive(record: SQSRecord) -> None:
    # A message that does not parse can never succeed: it fails here, is retried, and ends in the
    # DLQ, where it can be looked at. Its content is not logged (it holds an e-mail address).
    receipt = service().receive(IntakeMessage.model_validate(json.loads(record.body)))
    metrics.add_metric(name="IntakeCaseCreated" if receipt.created else "IntakeRepeat", unit=MetricUnit.Count, value=1)
    logger.info("intake message handled", case_id=receipt.id, new_case=receipt.created)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=receive, processor=processor, context=context)
