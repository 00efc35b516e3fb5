"""SQS (EventBridge: the shop's OrderPlaced.v1 / OrderRefunded.v1) -> the points ledger, each once.

A record that fails is reported in `batchItemFailures` and comes again: a duplicate or a retry of a
write that did happen changes nothing (business keys); an event that can never be read
(MalformedEvent) fails every time and rests in the DLQ, with nothing written for it.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.errors import Conflict
from ecrm.loyalty.compose import loyalty_accrual
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.service import LoyaltyAccrual, message_body
from ecrm.observability import logger, metrics
from ecrm.settings import LoyaltyAccrualSettings

# A batch whose records all failed is answered with all of them in batchItemFailures rather than
# raised: one malformed event alone must not count as a function error on every retry.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
OUTCOME_METRICS = {"applied": "ShopEventApplied", "duplicate": "ShopEventDuplicate", "parked": "RefundParked"}


@cache
def service() -> LoyaltyAccrual:
    return loyalty_accrual(LoyaltyAccrualSettings.from_env())


def accrue(record: SQSRecord) -> None:
    try:
        envelope = message_body(record.body)
        outcome = service().on_shop_event(envelope.get("detail-type"), envelope.get("detail"))
    except MalformedEvent as exc:
        # The field and the reason only: an event's values may be personal (its e-mail address).
        logger.warning("malformed shop event", field=exc.field, reason=exc.message, message_id=record.message_id)
        metrics.add_metric(name="MalformedShopEvent", unit=MetricUnit.Count, value=1)
        raise
    except Conflict:
        metrics.add_metric(name="LoyaltyContention", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=OUTCOME_METRICS[outcome.value], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=accrue, processor=processor, context=context)
