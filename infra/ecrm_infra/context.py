"""Deploy-time settings read from CDK context (cdk.json, or `cdk -c key=value`), with defaults.

The keys the functions see ("context:<key>" values in the topology) default to
topology.CONTEXT_DEFAULTS, the same values the local runner uses; the others only shape the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_lambda as lambda_
from constructs import Node

from ecrm_infra import topology
from ecrm_infra.topology import CONTEXT_PREFIX
from ecrm_infra.topology.clients import MACHINE_CLIENTS, MachineClient, clients_from_context

_FALSE = frozenset({"false", "0", "no", "off"})
_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


@dataclass(frozen=True)
class DeployContext:
    values: dict[str, str]  # every topology context key, resolved
    waf: bool
    cors_origins: tuple[str, ...]
    architecture_name: str
    snap_start: bool = False  # Lambda SnapStart on the API functions (decision 84)
    machine_clients: tuple[MachineClient, ...] = MACHINE_CLIENTS  # decision 85
    auth_domain_prefix: str | None = None  # the user pool's domain; default ecrm-<account id>

    @classmethod
    def of(cls, node: Node) -> DeployContext:
        def get(key: str, default: Any) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        values = {key: str(get(key, default)) for key, default in topology.CONTEXT_DEFAULTS.items()}
        architecture = str(get("architecture", "arm64"))
        if architecture not in _ARCHITECTURES:
            raise ValueError(f"context architecture must be one of {sorted(_ARCHITECTURES)}, not {architecture!r}")
        origins = str(get("corsOrigins", values["allowedOrigins"]))
        return cls(
            values=values,
            waf=str(get("waf", "true")).strip().lower() not in _FALSE,
            cors_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
            architecture_name=architecture,
            snap_start=str(get("snapStart", "false")).strip().lower() not in _FALSE,
            machine_clients=clients_from_context(node.try_get_context("machineClients")),
            auth_domain_prefix=node.try_get_context("authDomainPrefix"),
        )

    @property
    def architecture(self) -> lambda_.Architecture:
        return _ARCHITECTURES[self.architecture_name]

    def resolve(self, reference: str) -> str:
        """The value of a "context:<key>" reference from the topology."""
        key = reference.removeprefix(CONTEXT_PREFIX)
        if key not in self.values:
            raise KeyError(f"{reference!r}: no default in topology.CONTEXT_DEFAULTS")
        return self.values[key]
