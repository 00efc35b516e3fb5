"""DynamoDB stream of the Outbox table -> the bus: every event a writer committed, at least once."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.adapters.eventbridge import EventBridgePublisher
from ecrm.observability import logger, metrics
from ecrm.relay import EventRelay
from ecrm.settings import EventRelaySettings


@cache
def service() -> EventRelay:
    settings = EventRelaySettings.from_env()
    return EventRelay(
        EventBridgePublisher(boto3.session.Session().client("events"), settings.event_bus), settings.event_bus
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    relayed = service().forward(event.get("Records") or [])
    metrics.add_metric(name="EventsRelayed", unit=MetricUnit.Count, value=relayed.published)
    if relayed.failed_from is None:
        return {"batchItemFailures": []}
    # Alarmed: the bus kept rejecting an event; Lambda reads the shard again from this record.
    metrics.add_metric(name="EventRelayFailures", unit=MetricUnit.Count, value=1)
    logger.warning("bus rejected events; the batch is read again", failed_from=relayed.failed_from)
    return {"batchItemFailures": [{"itemIdentifier": relayed.failed_from}]}


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
