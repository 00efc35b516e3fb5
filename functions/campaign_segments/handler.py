"""Segment-index queue (contact, loyalty-tier and suppression events) -> the contact's index items."""

import json
from functools import cache

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import membership
from ecrm.campaigns.membership import MembershipService
from ecrm.observability import logger, metrics
from ecrm.settings import MembershipSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> MembershipService:
    return membership(MembershipSettings.from_env())


def project(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    keys = service().on_event(str(envelope["detail-type"]), envelope["detail"])
    logger.info("membership", detail_type=envelope["detail-type"], partitions=None if keys is None else len(keys))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, object], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=project, processor=processor, context=context)
