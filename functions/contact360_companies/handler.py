"""SQS (EventBridge ContactCaptured, ContactErased) -> a captured contact is linked to the company
owning its address's domain; an erased one is unlinked."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, event
from ecrm.contact360.companies import CompanyLinks
from ecrm.contact360.compose import company_links
from ecrm.contact360.settings import CompanyLinkSettings
from ecrm.events import ContactCaptured, ContactErased, ContactEvent
from ecrm.observability import logger, metrics


@cache
def service() -> CompanyLinks:
    return company_links(CompanyLinkSettings.from_env())


@consumer(event({e.detail_type: e for e in (ContactCaptured, ContactErased)}), name="CompanyLink")
def link(contact: ContactEvent, _: LambdaContext) -> str:
    if isinstance(contact, ContactErased):
        return service().on_erased(contact.contact_id)
    assert isinstance(contact, ContactCaptured)  # the parser knows no other
    return service().on_captured(contact.contact_id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return link.batch(event, context)
