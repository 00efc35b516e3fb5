"""SQS intake queue (e-mail-to-case, chat, partner systems) -> cases, once per channel message id."""

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
from pydantic import ValidationError

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> CaseIntake:
    return intake_service(CaseIntakeSettings.from_env())


def parse(body: str) -> IntakeMessage:
    """A message that does not parse can never succeed: it fails, is retried and ends in the DLQ,
    where it can be looked at. pydantic's message quotes the input (an e-mail address), so only
    where it failed goes into the error (and the log)."""
    try:
        return IntakeMessage.model_validate_json(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
        raise ValueError(f"not an intake message (schema 1): {fields}") from None


def receive(record: SQSRecord) -> None:
    receipt = service().receive(parse(record.body))
    metrics.add_metric(name="IntakeCaseCreated" if receipt.created else "IntakeRepeat", unit=MetricUnit.Count, value=1)
    logger.info("intake message handled", case_id=receipt.id, new_case=receipt.created)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=receive, processor=processor, context=context)
