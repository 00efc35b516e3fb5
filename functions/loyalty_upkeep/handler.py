"""SQS (Scheduler's loyalty timers, and EventBridge ContactErased.v1) -> lot expiry, the expiry
warning mail, tier reviews, erasure. Each acts on the member item as it is when the message comes,
so a timer that fires late, twice or for something gone does nothing."""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.errors import Conflict
from ecrm.loyalty.compose import loyalty_upkeep
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.service import LoyaltyUpkeep, message_body
from ecrm.observability import logger, metrics
from ecrm.settings import LoyaltyUpkeepSettings

# A batch whose records all failed is answered with all of them in batchItemFailures rather than
# raised: one malformed event alone must not count as a function error on every retry.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def service() -> LoyaltyUpkeep:
    return loyalty_upkeep(LoyaltyUpkeepSettings.from_env())


def upkeep(record: SQSRecord) -> None:
    try:
        body = message_body(record.body)
        outcome = service().on_upkeep(body)
    except MalformedEvent as exc:
        logger.warning("malformed upkeep message", field=exc.field, reason=exc.message, message_id=record.message_id)
        raise
    except Conflict:
        metrics.add_metric(name="LoyaltyContention", unit=MetricUnit.Count, value=1)
        raise
    kind = str(body.get("kind") or body.get("detail-type"))
    logger.info("loyalty upkeep", kind=kind, outcome=outcome.value)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=upkeep, processor=processor, context=context)
