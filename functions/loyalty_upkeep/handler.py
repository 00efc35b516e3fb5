"""SQS (Scheduler's loyalty timers, and EventBridge ContactErased.v1) -> lot expiry, the expiry
warning mail, tier reviews, erasure. Each acts on the member item as it is when the message comes,
so a timer that fires late, twice or for something gone does nothing."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, json_object
from ecrm.loyalty.compose import loyalty_upkeep
from ecrm.loyalty.service import LoyaltyUpkeep
from ecrm.loyalty.settings import LoyaltyUpkeepSettings
from ecrm.observability import logger, metrics


@cache
def service() -> LoyaltyUpkeep:
    return loyalty_upkeep(LoyaltyUpkeepSettings.from_env())


@consumer(json_object, name="LoyaltyUpkeep")  # a timer's payload or a bus envelope: the domain tells them apart
def upkeep(body: dict[str, Any], _: LambdaContext) -> str:
    outcome = service().on_upkeep(body)
    logger.info("loyalty upkeep", kind=str(body.get("kind") or body.get("detail-type")), outcome=outcome.value)
    return outcome.value


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return upkeep.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
