"""The one way a function is made: code, runtime, its own role, its own log group, its grants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from ecrm.names import METRICS_NAMESPACE, SERVICE

from ecrm_infra.bindings import Binding, grant_all
from ecrm_infra.context import DeployContext
from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import CONTEXT_PREFIX, VALUE_PREFIX, Access, Function, split_source

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
# Set on every function besides what its settings model reads.
OBSERVABILITY_ENV = {"POWERTOOLS_SERVICE_NAME": SERVICE, "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE}
LOG_LEVEL = "INFO"
LIVE_ALIAS = "live"  # with SnapStart, API Gateway invokes this alias of the newest published version


def function_code(name: str) -> lambda_.Code:
    """functions/ as the asset root with only this function's folder in it: Lambda imports `<name>.handler`."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR), exclude=["*", f"!{name}", f"!{name}/**", "**/__pycache__", "**/*.pyc"]
    )


def environment(fn: Function, bindings: Mapping[str, Binding], ctx: DeployContext) -> dict[str, str]:
    env = {**OBSERVABILITY_ENV, "LOG_LEVEL": LOG_LEVEL}
    for var, source in fn.env.items():
        if source.startswith(CONTEXT_PREFIX):
            env[var] = ctx.resolve(source)
        elif source.startswith(VALUE_PREFIX):
            env[var] = source.removeprefix(VALUE_PREFIX)
        else:
            name, attribute = split_source(source)
            if name not in bindings:
                raise KeyError(f"{fn.name}: {var} refers to unknown resource {name!r}")
            env[var] = bindings[name].env_value(attribute)
    return env


class PythonFunction(Construct):
    """A function from the topology with a role that starts empty and gets only the function's grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fn: Function,
        bindings: Mapping[str, Binding],
        layers: Sequence[lambda_.ILayerVersion],
        ctx: DeployContext,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = fn
        # SnapStart (context `snapStart`) serves the API, where a person waits on a cold start; the
        # consumers' latency is nobody's wait, and each published version's snapshot is billed.
        self.snap_start = ctx.snap_start and bool(fn.routes)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{fn.name}: runs the function, nothing else",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=fn.description,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=ctx.architecture,
            handler=fn.handler,
            code=function_code(fn.name),
            timeout=cdk.Duration.seconds(fn.timeout_seconds),
            memory_size=fn.memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            environment=environment(fn, bindings, ctx),
            layers=list(layers),
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=fn.reserved_concurrency,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if self.snap_start else None,
            # A version's snapshot is billed while the version exists: the one a deployment
            # replaces is deleted, not kept (CDK's default for current_version is to retain it).
            current_version_options=lambda_.VersionOptions(removal_policy=cdk.RemovalPolicy.DESTROY)
            if self.snap_start
            else None,
        )
        # What its triggers invoke: with SnapStart, the alias of the version published (and
        # snapshotted) from this configuration; $LATEST would run without a snapshot.
        self.invoked: lambda_.IFunction = self.function
        if self.snap_start:
            self.invoked = lambda_.Alias(self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version)
        grant_all(self.role, fn.grants, bindings)
        unscoped = "Active tracing: xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions."
        if any(Access.SEND_QUOTA in access for access in fn.grants.values()):
            unscoped += " ses:GetSendQuota (the account's send rate, read to pace bulk mail) supports none either."
        acknowledge(self.role, "IAM5", unscoped, applies_to="Resource::*")
        acknowledge(
            self.function,
            "L1",
            "Pinned to python3.12, the runtime AWS's Powertools layer and our dependencies layer are built "
            "for (ecrm_infra.versions); the three move together.",
        )
