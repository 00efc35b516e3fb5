"""Alarms and dashboard: a message in any DLQ, any function error, any API 5XX notifies the topic.

The topic, the dashboard and the API's alarm belong to the platform (root stack); each capability's
alarms are made in the capability's own stack (`CapabilityAlarms`) and notify the same topic.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from ecrm.names import METRICS_NAMESPACE, SERVICE

from ecrm_infra.topology import MetricAlarm

_PERIOD = cdk.Duration.minutes(5)
ITERATOR_AGE_MS = 60_000


def function_errors(fn: lambda_.IFunction) -> cloudwatch.Metric:
    return fn.metric_errors(period=_PERIOD, statistic="Sum")


def dlq_depth(dlq: sqs.IQueue) -> cloudwatch.Metric:
    return dlq.metric_approximate_number_of_messages_visible(period=_PERIOD, statistic="Maximum")


def iterator_age(fn: lambda_.IFunction) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name="IteratorAge",
        dimensions_map={"FunctionName": fn.function_name},
        statistic="Maximum",
        period=_PERIOD,
    )


def own_metric(spec: MetricAlarm) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=spec.metric,
        dimensions_map={"service": SERVICE},  # Powertools' default dimension
        statistic=spec.statistic,
        period=cdk.Duration.minutes(spec.period_minutes),
    )


def _alarm(
    scope: Construct, topic: sns.ITopic, name: str, metric: cloudwatch.Metric, description: str, threshold: float = 0
) -> cloudwatch.Alarm:
    alarm = metric.create_alarm(
        scope,
        name,
        alarm_description=description,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(actions.SnsAction(topic))
    return alarm


class CapabilityAlarms(Construct):
    """A capability's alarms, in its own stack: each function's errors, each DLQ's depth, its own metrics."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        metric_alarms: tuple[MetricAlarm, ...] = (),
        stream_readers: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, fn in (stream_readers or {}).items():
            # How far behind the newest record the function reads: events reaching the bus late.
            late = f"{name}: stream read over a minute behind"
            self.alarms.append(_alarm(self, topic, f"{name}-iterator-age", iterator_age(fn), late, ITERATOR_AGE_MS))
        for name, fn in functions.items():
            self.alarms.append(
                _alarm(self, topic, f"{name}-errors", function_errors(fn), f"{name}: invocations failed")
            )
        for name, dlq in dead_letter_queues.items():
            self.alarms.append(
                _alarm(self, topic, f"{name}-dlq", dlq_depth(dlq), f"{name}: messages in the dead-letter queue")
            )
        for spec in metric_alarms:
            self.alarms.append(_alarm(self, topic, spec.metric, own_metric(spec), spec.description, spec.threshold))


class Monitoring(Construct):
    """The alarm topic, the API's 5XX alarm and the one dashboard of every capability's figures."""

    def __init__(self, scope: Construct, construct_id: str, *, api: apigw.RestApi) -> None:
        super().__init__(scope, construct_id)
        # A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
        key = kms.Key(self, "AlarmTopicKey", enable_key_rotation=True, description="eCRM alarm topic")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True, display_name="eCRM alarms")
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.hours(3))
        server_errors = api.metric_server_error(period=_PERIOD, statistic="Sum")
        self.alarms = [_alarm(self, self.topic, "api-5xx", server_errors, "API answered 5XX")]
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API 4XX / 5XX", left=[api.metric_client_error(), server_errors]),
            cloudwatch.GraphWidget(title="API latency p99", left=[api.metric_latency(statistic="p99")]),
        )

    def add_capability(
        self,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        metric_alarms: tuple[MetricAlarm, ...] = (),
    ) -> None:
        """The capability's widgets (its stack holds its alarms)."""
        for name, fn in functions.items():
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{name}: invocations / errors", left=[fn.metric_invocations(), function_errors(fn)]
                ),
                cloudwatch.GraphWidget(title=f"{name}: duration p99", left=[fn.metric_duration(statistic="p99")]),
                cloudwatch.GraphWidget(title=f"{name}: throttles", left=[fn.metric_throttles()]),
            )
        for name, dlq in dead_letter_queues.items():
            self.dashboard.add_widgets(cloudwatch.GraphWidget(title=f"{name}: DLQ depth", left=[dlq_depth(dlq)]))
        for spec in metric_alarms:
            self.dashboard.add_widgets(cloudwatch.GraphWidget(title=spec.metric, left=[own_metric(spec)]))
