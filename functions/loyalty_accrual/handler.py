"""SQS (EventBridge: the shop's OrderPlaced.v1 / OrderRefunded.v1) -> the points ledger, each once.

A record that fails is reported in `batchItemFailures` and comes again: a duplicate or a retry of a
write that did happen changes nothing (business keys); an event that can never be read
(MalformedEvent, counted as ShopEventMalformed) fails every time and rests in the DLQ, with nothing
written for it.
"""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, json_object
from ecrm.loyalty.compose import loyalty_accrual
from ecrm.loyalty.service import LoyaltyAccrual
from ecrm.loyalty.settings import LoyaltyAccrualSettings
from ecrm.observability import logger, metrics


@cache
def service() -> LoyaltyAccrual:
    return loyalty_accrual(LoyaltyAccrualSettings.from_env())


# The shop's detail is read by the domain (MalformedEvent names the field path), so the envelope
# is taken as a JSON object: a missing detail-type or detail is named there too.
@consumer(json_object, name="ShopEvent")
def accrue(envelope: dict[str, Any], _: LambdaContext) -> str:
    return service().on_shop_event(envelope.get("detail-type"), envelope.get("detail")).value


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return accrue.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
