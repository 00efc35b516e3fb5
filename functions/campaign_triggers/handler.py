"""Trigger queue (ConsentConfirmed, ContactCaptured, TierChanged) -> mail of the live triggered campaigns."""

import json
from datetime import datetime
from functools import cache

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.campaigns.compose import triggers
from ecrm.campaigns.triggers import TriggerService
from ecrm.observability import logger, metrics
from ecrm.settings import TriggerSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> TriggerService:
    return triggers(TriggerSettings.from_env())


def trigger(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    detail_type, event_id = str(envelope["detail-type"]), str(envelope["id"])
    at = datetime.fromisoformat(str(envelope["time"]).replace("Z", "+00:00"))
    addressed = service().on_event(detail_type, envelope["detail"], event_id, at)
    metrics.add_metric(name="TriggeredMailQueued", unit=MetricUnit.Count, value=len(addressed))
    logger.info("trigger", detail_type=detail_type, event_id=event_id, campaigns=addressed)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, object], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=trigger, processor=processor, context=context)
