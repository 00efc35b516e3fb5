"""One construct per capability: its queues first (so env vars and grants can name them), then its
functions, each wired to its routes and its queue."""

from __future__ import annotations

from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.bindings import Binding, QueueBinding
from ecrm_infra.context import DeployContext
from ecrm_infra.function import PythonFunction
from ecrm_infra.platform import Platform
from ecrm_infra.queue_trigger import TriggerQueue
from ecrm_infra.stream_trigger import TableStreamTrigger


class CapabilityConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: topology.Capability, platform: Platform, ctx: DeployContext
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, PythonFunction] = {}
        self.queues: dict[str, TriggerQueue] = {}
        self.streams: dict[str, TableStreamTrigger] = {}
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
                if fn.queue.scheduler_target:
                    queue.queue.grant_send_messages(platform.scheduler_role)
        bindings: dict[str, Binding] = platform.bindings
        for fn in spec.functions:
            made = PythonFunction(self, fn.name, fn=fn, bindings=bindings, layers=platform.layers.all, ctx=ctx)
            self.functions[fn.name] = made
            for route in fn.routes:
                platform.api.add_route(route, made.function)
            if fn.queue:
                self.queues[fn.queue.queue].attach(made.function)
            if fn.stream:
                stream = TableStreamTrigger(
                    self, f"{fn.name}Stream", trigger=fn.stream, table=platform.tables[fn.stream.table]
                )
                stream.attach(made.function)
                self.streams[fn.name] = stream

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {
            **{name: q.dead_letter_queue for name, q in self.queues.items()},
            **{f"{name}Stream": s.dead_letter_queue for name, s in self.streams.items()},
        }
