"""SQS (EventBridge ContactCaptured/ContactUpdated with a consent request) -> double opt-in mail."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, event
from ecrm.contacts.compose import confirmation_mailer
from ecrm.contacts.consent_mail import ConfirmationMailer
from ecrm.contacts.settings import ConsentMailerSettings
from ecrm.events import EVENT_TYPES, ContactCaptured, ContactUpdated, DomainEvent
from ecrm.observability import logger, metrics


@cache
def service() -> ConfirmationMailer:
    return confirmation_mailer(ConsentMailerSettings.from_env())


@consumer(event(EVENT_TYPES), name="ConsentMail")
def send_confirmation(detail: DomainEvent, _: LambdaContext) -> str:
    if not isinstance(detail, ContactCaptured | ContactUpdated) or not detail.consent_request_id:
        return "Ignored"
    return "Sent" if service().send(detail.contact_id, detail.consent_request_id) else "Unchanged"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return send_confirmation.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
