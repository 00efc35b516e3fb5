"""SQS (EventBridge ContactCaptured, ContactErased, CompanyUpdated) -> a captured contact is linked to
the company owning its address's domain; an erased one is unlinked; a company's changed attributes
are told to each of its contacts."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, event
from ecrm.contact360.companies import CompanyLinks
from ecrm.contact360.compose import company_links
from ecrm.contact360.events import CompanyUpdated
from ecrm.contact360.settings import CompanyLinkSettings
from ecrm.events import ContactCaptured, ContactErased, DomainEvent
from ecrm.observability import logger, metrics


@cache
def service() -> CompanyLinks:
    return company_links(CompanyLinkSettings.from_env())


@consumer(event({e.detail_type: e for e in (ContactCaptured, ContactErased, CompanyUpdated)}), name="CompanyLink")
def link(news: DomainEvent, _: LambdaContext) -> str:
    if isinstance(news, CompanyUpdated):
        return service().on_company_updated(news.company_id, news.changed)
    if isinstance(news, ContactErased):
        return service().on_erased(news.contact_id)
    assert isinstance(news, ContactCaptured)  # the parser knows no other
    return service().on_captured(news.contact_id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return link.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
