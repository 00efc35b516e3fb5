"""SQS (EventBridge ContactErased) -> the erased requester's cases are redacted."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import erasure_service
from ecrm.cases.erasure import CaseErasure
from ecrm.cases.settings import CaseErasureSettings
from ecrm.consumer import consumer, event
from ecrm.events import ContactErased
from ecrm.observability import logger, metrics


@cache
def service() -> CaseErasure:
    return erasure_service(CaseErasureSettings.from_env())


@consumer(event({ContactErased.detail_type: ContactErased}), name="CaseErasure")
def erase(erased: ContactErased, _: LambdaContext) -> str:
    cases = service().erase_requester(erased.contact_id)
    logger.info("requester's cases redacted", contact_id=erased.contact_id, cases=cases)
    return "Redacted"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return erase.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
