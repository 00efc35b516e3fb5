"""Dashboard and alarms: a message in any DLQ, any function error, any API 5XX notifies the topic."""

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


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        api: apigw.RestApi,
        metric_alarms: tuple[MetricAlarm, ...] = (),
        stream_readers: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
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
        self.alarms: list[cloudwatch.Alarm] = []
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.hours(3))

        for name, fn in functions.items():
            errors = fn.metric_errors(period=_PERIOD, statistic="Sum")
            self._alarm(f"{name}-errors", errors, f"{name}: invocations failed")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(title=f"{name}: invocations / errors", left=[fn.metric_invocations(), errors]),
                cloudwatch.GraphWidget(title=f"{name}: duration p99", left=[fn.metric_duration(statistic="p99")]),
                cloudwatch.GraphWidget(title=f"{name}: throttles", left=[fn.metric_throttles()]),
            )
        for name, dlq in dead_letter_queues.items():
            depth = dlq.metric_approximate_number_of_messages_visible(period=_PERIOD, statistic="Maximum")
            self._alarm(f"{name}-dlq", depth, f"{name}: messages in the dead-letter queue")
            dashboard.add_widgets(cloudwatch.GraphWidget(title=f"{name}: DLQ depth", left=[depth]))

        for name, fn in (stream_readers or {}).items():
            # How far behind the newest record the function reads: events reaching the bus late.
            age = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",
                dimensions_map={"FunctionName": fn.function_name},
                statistic="Maximum",
                period=_PERIOD,
            )
            self._alarm(f"{name}-iterator-age", age, f"{name}: stream read over a minute behind", ITERATOR_AGE_MS)
            dashboard.add_widgets(cloudwatch.GraphWidget(title=f"{name}: iterator age (ms)", left=[age]))

        server_errors = api.metric_server_error(period=_PERIOD, statistic="Sum")
        self._alarm("api-5xx", server_errors, "API answered 5XX")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API 4XX / 5XX", left=[api.metric_client_error(), server_errors]),
            cloudwatch.GraphWidget(title="API latency p99", left=[api.metric_latency(statistic="p99")]),
        )
        for spec in metric_alarms:
            metric = cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=spec.metric,
                dimensions_map={"service": SERVICE},  # Powertools' default dimension
                statistic=spec.statistic,
                period=cdk.Duration.minutes(spec.period_minutes),
            )
            self._alarm(spec.metric, metric, spec.description, spec.threshold)
            dashboard.add_widgets(cloudwatch.GraphWidget(title=spec.metric, left=[metric]))

    def _alarm(self, name: str, metric: cloudwatch.Metric, description: str, threshold: float = 0) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
