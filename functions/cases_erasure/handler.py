"""SQS (EventBridge ContactErased) -> the erased requester's cases are redacted."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import erasure_service
from ecrm.cases.erasure import CaseErasure
from ecrm.events import ContactErased
from ecrm.observability import logger, metrics
from ecrm.settings import CaseErasureSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> CaseErasure:
    return erasure_service(CaseErasureSettings.from_env())


def erase(record: SQSRecord) -> None:
    erased = ContactErased.model_validate(json.loads(record.body)["detail"])
    cases = service().erase_requester(erased.contact_id)
    logger.info("requester's cases redacted", contact_id=erased.contact_id, cases=cases)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=erase, processor=processor, context=context)
