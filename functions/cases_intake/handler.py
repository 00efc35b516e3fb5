"""SQS intake queue (e-mail-to-case, chat, partner systems) -> cases, once per channel message id.

A message that does not parse (schema 1) can never succeed: it fails, is retried and ends in the
DLQ, named by its field paths (never its values, which may be an e-mail address)."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import intake_service
from ecrm.cases.models import IntakeMessage
from ecrm.cases.service import CaseIntake
from ecrm.cases.settings import CaseIntakeSettings
from ecrm.consumer import consumer, model
from ecrm.observability import logger, metrics


@cache
def service() -> CaseIntake:
    return intake_service(CaseIntakeSettings.from_env())


@consumer(model(IntakeMessage), name="IntakeMessage")
def receive(message: IntakeMessage, _: LambdaContext) -> str:
    receipt = service().receive(message)
    logger.info("intake message handled", case_id=receipt.id, new_case=receipt.created)
    return "CaseCreated" if receipt.created else "Repeat"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return receive.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
