"""Segment-index queue (contact, loyalty-tier and suppression events) -> the contact's index items."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import membership
from ecrm.campaigns.membership import MembershipService
from ecrm.campaigns.settings import MembershipSettings
from ecrm.consumer import Envelope, consumer, envelope
from ecrm.observability import logger, metrics


@cache
def service() -> MembershipService:
    return membership(MembershipSettings.from_env())


@consumer(envelope, name="SegmentEvent")
def project(event: Envelope, _: LambdaContext) -> str:
    keys = service().on_event(event.detail_type, event.detail)
    logger.info("membership", detail_type=event.detail_type, partitions=None if keys is None else len(keys))
    return "Ignored" if keys is None else "Projected"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return project.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
