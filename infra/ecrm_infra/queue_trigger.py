"""SQS queue (with its DLQ) -> function, as a topology QueueTrigger declares it, fed by an optional rule."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra.topology import EventRule, QueueTrigger

# AWS's guidance: visibility timeout at least 6x the function timeout, so a batch retried by the
# poller (throttling, a slow batch) is not handed out twice while the first attempt still runs.
VISIBILITY_FACTOR = 6
_RETENTION = cdk.Duration.days(14)  # the SQS maximum: time to look at and redrive the DLQ


def event_pattern(rule: EventRule) -> events.EventPattern:
    # The topology's pattern is EventBridge JSON; EventPattern takes the same keys in snake case.
    fields: dict[str, Any] = {key.replace("-", "_"): value for key, value in rule.event_pattern.items()}
    return events.EventPattern(**fields)


class TriggerQueue(Construct):
    """The queue, its DLQ and (if declared) the rule feeding it. The function is attached later, so
    every queue exists (and can be named in env vars and grants) before any function is made."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        trigger: QueueTrigger,
        bus: events.IEventBus,
        function_timeout_seconds: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.trigger = trigger
        self.dead_letter_queue = sqs.Queue(
            self,
            "Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(VISIBILITY_FACTOR * function_timeout_seconds),
            retention_period=_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=trigger.max_receive_count
            ),
        )
        self.rules: list[events.Rule] = []
        default_bus: events.IEventBus | None = None
        for n, rule in enumerate(trigger.rules):
            if rule.bus == "default" and default_bus is None:
                default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
            self.rules.append(
                events.Rule(
                    self,
                    "Rule" if n == 0 else f"Rule{n + 1}",  # the first keeps the id it always had
                    event_bus=default_bus if rule.bus == "default" else bus,
                    event_pattern=event_pattern(rule),
                    description=f"{trigger.queue}: {', '.join(rule.detail_types or rule.sources)}"[:512],
                    # Events EventBridge cannot deliver (queue policy, throttling past retries) land in the DLQ too.
                    targets=[targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue)],
                )
            )

    def attach(self, function: lambda_.IFunction) -> None:
        function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=self.trigger.batch_size,
                report_batch_item_failures=True,
                max_concurrency=self.trigger.max_concurrency,
            )
        )
