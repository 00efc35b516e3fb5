"""SQS (EventBridge ContactCaptured/ContactUpdated with a consent request) -> double opt-in mail."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.contacts.compose import confirmation_mailer
from ecrm.contacts.consent_mail import ConfirmationMailer
from ecrm.events import EVENT_TYPES, ContactCaptured, ContactUpdated
from ecrm.observability import logger, metrics
from ecrm.settings import ConsentMailerSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> ConfirmationMailer:
    return confirmation_mailer(ConsentMailerSettings.from_env())


def send_confirmation(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    detail = EVENT_TYPES[envelope["detail-type"]].model_validate(envelope["detail"])
    if not isinstance(detail, ContactCaptured | ContactUpdated) or not detail.consent_request_id:
        return
    if service().send(detail.contact_id, detail.consent_request_id):
        metrics.add_metric(name="ConsentMailSent", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=send_confirmation, processor=processor, context=context)
