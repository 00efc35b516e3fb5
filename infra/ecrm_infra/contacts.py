"""The functions of the topology, each wired to its routes and its queue trigger."""

from __future__ import annotations

from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.context import DeployContext
from ecrm_infra.function import PythonFunction
from ecrm_infra.platform import Platform
from ecrm_infra.queue_trigger import QueueTriggered


class Contacts(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform, ctx: DeployContext) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, PythonFunction] = {}
        self.triggers: dict[str, QueueTriggered] = {}
        for spec in topology.FUNCTIONS:
            fn = PythonFunction(
                self, spec.name, fn=spec, bindings=platform.bindings, layers=platform.layers.all, ctx=ctx
            )
            self.functions[spec.name] = fn
            for route in spec.routes:
                platform.api.add_route(route, fn.function)
            if spec.queue:
                self.triggers[spec.name] = QueueTriggered(
                    self,
                    spec.queue.queue,
                    trigger=spec.queue,
                    bus=platform.bus,
                    function=fn.function,
                    function_timeout_seconds=spec.timeout_seconds,
                )

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {t.node.id: t.dead_letter_queue for t in self.triggers.values()}
