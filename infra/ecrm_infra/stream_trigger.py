"""A table's DynamoDB stream -> function, as a topology StreamTrigger declares it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import StreamTrigger

_RETENTION = cdk.Duration.days(14)


class TableStreamTrigger(Construct):
    """The event source mapping and its DLQ. The DLQ receives, for a batch that still failed, where
    it lies in the stream (shard, sequence numbers); the items stay in the table until their TTL."""

    def __init__(self, scope: Construct, construct_id: str, *, trigger: StreamTrigger, table: dynamodb.ITable) -> None:
        super().__init__(scope, construct_id)
        self.trigger = trigger
        self.table = table
        self.dead_letter_queue = sqs.Queue(
            self, "Dlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, retention_period=_RETENTION
        )
        acknowledge(
            self.dead_letter_queue,
            "SQS3",
            "This queue is the stream trigger's on-failure destination (a DLQ that Lambda writes to directly, "
            "not through a redrive policy), so cdk-nag cannot see its role; it is alarmed on depth.",
        )

    def attach(self, function: lambda_.IFunction) -> None:
        function.add_event_source(
            sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=self.trigger.batch_size,
                bisect_batch_on_error=True,
                retry_attempts=self.trigger.retry_attempts,
                max_record_age=cdk.Duration.seconds(self.trigger.max_record_age_seconds),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letter_queue),
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})],
            )
        )
