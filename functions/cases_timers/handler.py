"""SQS case timer queue (EventBridge Scheduler one-time schedules, and due timers sent straight)."""

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import timer_service
from ecrm.cases.firing import SlaTimerService
from ecrm.cases.sla import TIMER_KIND
from ecrm.observability import logger, metrics
from ecrm.settings import CaseTimerSettings

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> SlaTimerService:
    return timer_service(CaseTimerSettings.from_env())


def sla_timer(payload: dict[str, Any]) -> str:
    return service().on_timer(payload)


# Timer payloads name their kind; a kind nobody handles fails and ends in the DLQ, in plain view.
KINDS: dict[str, Callable[[dict[str, Any]], str]] = {TIMER_KIND: sla_timer}


def fire(record: SQSRecord) -> None:
    payload = json.loads(record.body)
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind not in KINDS:
        raise ValueError(f"no consumer for timer kind {kind!r}")
    outcome = KINDS[kind](payload)
    metrics.add_metric(name=f"Timer_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("timer handled", kind=kind, case_id=payload.get("case_id"), outcome=outcome)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=fire, processor=processor, context=context)
