"""One construct per capability: its tables and queues first (so env vars and grants can name them),
then its functions, each wired to its routes and its queue. `CapabilityStack` puts it, with its
alarms, in a nested stack of its own."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.api import CapabilityRoutes
from ecrm_infra.bindings import Binding, BucketBinding, QueueBinding, SchedulesBinding, TableBinding, grant_all
from ecrm_infra.context import DeployContext
from ecrm_infra.data import bucket, table
from ecrm_infra.function import PythonFunction
from ecrm_infra.monitoring import CapabilityAlarms, Monitoring
from ecrm_infra.platform import Platform
from ecrm_infra.queue_trigger import TriggerQueue
from ecrm_infra.stream_trigger import TableStreamTrigger


class CapabilityConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: topology.Capability, platform: Platform, ctx: DeployContext
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {}
        for table_spec in spec.tables:
            made_table = table(self, table_spec)
            self.tables[table_spec.name] = made_table
            platform.bindings[table_spec.name] = TableBinding(made_table, table_spec.indexes)
        self.buckets: dict[str, s3.Bucket] = {}
        for bucket_spec in spec.buckets:
            self.buckets[bucket_spec.name] = bucket(self, bucket_spec, cors_origins=ctx.cors_origins)
            platform.bindings[bucket_spec.name] = BucketBinding(self.buckets[bucket_spec.name])
        self.functions: dict[str, PythonFunction] = {}
        self.queues: dict[str, TriggerQueue] = {}
        self.streams: dict[str, TableStreamTrigger] = {}
        # The platform's Scheduler role as this stack sees it: what it may send to is granted here.
        scheduler_role = iam.Role.from_role_name(self, "SchedulerRole", platform.scheduler_role.role_name)
        if spec.schedule_group:  # its timers' own group: no other capability's role reaches it
            group = scheduler.CfnScheduleGroup(self, spec.schedule_group)
            platform.bindings[spec.schedule_group] = SchedulesBinding.of(group, platform.scheduler_role)
        for fn in spec.functions:
            if fn.queue:
                queue = TriggerQueue(
                    self,
                    fn.queue.queue,
                    trigger=fn.queue,
                    bus=platform.bus,
                    function_timeout_seconds=fn.timeout_seconds,
                )
                self.queues[fn.queue.queue] = queue
                platform.bindings[fn.queue.queue] = QueueBinding(queue.queue)
                if fn.queue.scheduler_target:  # Scheduler delivers with SendMessage, nothing else
                    grant_all(scheduler_role, {fn.queue.queue: topology.Access.SEND}, platform.bindings)
        bindings: dict[str, Binding] = platform.bindings
        self.routes = CapabilityRoutes(self, "Routes", api=platform.api)
        for fn in spec.functions:
            made = PythonFunction(self, fn.name, fn=fn, bindings=bindings, layers=platform.layers.all, ctx=ctx)
            self.functions[fn.name] = made
            self._trigger(fn, made)

    def _trigger(self, fn: topology.Function, made: PythonFunction) -> None:
        """Its routes, its queue, its table stream (a table of this capability's: the Outbox's)."""
        for route in fn.routes:
            self.routes.add_route(route, made.invoked)
        if fn.queue:
            self.queues[fn.queue.queue].attach(made.function)
        if fn.stream:
            stream = TableStreamTrigger(self, f"{fn.name}Stream", trigger=fn.stream, table=self.tables[fn.stream.table])
            stream.attach(made.function)
            self.streams[fn.name] = stream

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {
            **{name: q.dead_letter_queue for name, q in self.queues.items()},
            **{f"{name}Stream": s.dead_letter_queue for name, s in self.streams.items()},
        }


class CapabilityStack(cdk.NestedStack):
    """A capability's own stack: what its topology declares, and its alarms. It reads the platform's
    resources as nested-stack parameters (never exports), so it and its neighbours change freely."""

    def __init__(
        self,
        scope: Construct,
        *,
        spec: topology.Capability,
        platform: Platform,
        monitoring: Monitoring,
        ctx: DeployContext,
    ) -> None:
        super().__init__(scope, spec.name, description=f"eCRM capability: {spec.name}")
        self.spec = spec
        self.capability = CapabilityConstruct(self, spec.name, spec=spec, platform=platform, ctx=ctx)
        functions = {name: f.function for name, f in self.capability.functions.items()}
        self.alarms = CapabilityAlarms(
            self,
            f"{spec.name}Alarms",  # logical ids unique across the stacks, like everything else here
            topic=monitoring.topic,
            functions=functions,
            dead_letter_queues=self.capability.dead_letter_queues,
            metric_alarms=spec.alarms,
            stream_readers={name: functions[name] for name in self.capability.streams},
        )
        monitoring.add_capability(
            functions=functions, dead_letter_queues=self.capability.dead_letter_queues, metric_alarms=spec.alarms
        )
