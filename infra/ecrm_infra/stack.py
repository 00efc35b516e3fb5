"""The Ecrm app: a root stack (the platform) with one nested stack per capability, checked by cdk-nag."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.capability import CapabilityStack
from ecrm_infra.context import DeployContext
from ecrm_infra.monitoring import Monitoring
from ecrm_infra.platform import Platform
from ecrm_infra.topology import Access

STACK_NAME = "Ecrm"
CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def project_context() -> dict[str, Any]:
    """cdk.json's context: what the cdk CLI passes in; `python infra/app.py` and the tests read it here."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


class EcrmStack(cdk.Stack):
    """The root stack: the platform and the alarm topic and dashboard; one nested stack per capability."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ctx = DeployContext.of(self.node)
        self.platform = Platform(self, "Platform", ctx=ctx)
        self.monitoring = Monitoring(self, "Monitoring", api=self.platform.api.rest_api)
        self.capabilities = {
            spec.name: CapabilityStack(self, spec=spec, platform=self.platform, monitoring=self.monitoring, ctx=ctx)
            for spec in (declared.for_context(ctx.values) for declared in topology.CAPABILITIES)
        }
        self.platform.deploy_api([cap.capability.routes for cap in self.capabilities.values()])
        self._outputs()

    @property
    def nested_stacks(self) -> list[cdk.NestedStack]:
        return list(self.capabilities.values())

    def _outputs(self) -> None:
        api = self.platform.api
        cdk.CfnOutput(self, "ApiUrl", value=api.rest_api.url)
        cdk.CfnOutput(self, "UserPoolId", value=self.platform.staff.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.platform.staff.client.user_pool_client_id)
        for cap in self.capabilities.values():
            for name, table in cap.capability.tables.items():
                cdk.CfnOutput(self, f"{name}TableName", value=table.table_name)
            for name, bucket in cap.capability.buckets.items():
                cdk.CfnOutput(self, f"{name}BucketName", value=bucket.bucket_name)
        cdk.CfnOutput(self, "EventBusName", value=self.platform.bus.event_bus_name)
        # Queues other systems send to (no rule, no Scheduler and none of our functions feed them):
        # e.g. case intake. The imports' step queue is fed by its own functions: no output.
        fed = {name for fn in topology.FUNCTIONS for name, access in fn.grants.items() if Access.SEND in access}
        for cap in self.capabilities.values():
            for name, queue in cap.capability.queues.items():
                if queue.trigger.rule is None and not queue.trigger.scheduler_target and name not in fed:
                    cdk.CfnOutput(self, f"{name}Url", value=queue.queue.queue_url)
                    cdk.CfnOutput(self, f"{name}Arn", value=queue.queue.queue_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)


def build_app(
    *, outdir: str | None = None, context: Mapping[str, Any] | None = None, env: cdk.Environment | None = None
) -> cdk.App:
    """The app with its one stack. `env` defaults to the account and region the cdk CLI resolved."""
    app = cdk.App(outdir=outdir, context=dict(context or {}))
    env = env or cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    stack = EcrmStack(app, STACK_NAME, env=env, description="eCRM serverless backend")
    # cdk-nag 3: a policy-validation plugin; an unacknowledged finding fails app.synth(). One per
    # stack, the capabilities' nested stacks included.
    for checked in (stack, *stack.nested_stacks):
        cdk.Validations.of(checked).add_plugins(AwsSolutionsChecks(checked))
    return app
