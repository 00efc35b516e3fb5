"""The machine clients the stack issues credentials to (decision 85): each is a Cognito app client
allowed OAuth2 client credentials for its scopes, and an API key in a usage plan of its own that
sets its rate and burst on the `/integrations/...` routes.

A client's secret and API key are made by AWS at deploy time and never pass through the stack's
code (`aws cognito-idp describe-user-pool-client`, `aws apigateway get-api-key --include-value`).
More clients come in by context: `-c machineClients='{"sync": {"scopes": ["contacts.read"]}}'`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ecrm.names import Scope

NAME = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class MachineClient:
    name: str
    scopes: tuple[str, ...]
    rate: float = 20.0  # steady requests per second, on every machine route together
    burst: int = 40

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"machine client name {self.name!r} must match {NAME.pattern}")
        unknown = sorted(set(self.scopes) - set(Scope.ALL))
        if not self.scopes or unknown:
            raise ValueError(f"machine client {self.name!r}: scopes must be some of {Scope.ALL}, not {unknown}")
        if not (0 < self.rate <= 10_000) or not (1 <= self.burst <= 5_000):
            raise ValueError(f"machine client {self.name!r}: rate must be in (0, 10000] and burst in [1, 5000]")


# The shop: posts orders and refunds, looks members up and redeems points at the till.
SHOP = MachineClient(
    "shop",
    (Scope.ORDERS_WRITE, Scope.LOYALTY_READ, Scope.LOYALTY_REDEEM, Scope.CONTACTS_READ),
    rate=25,
    burst=50,
)
MACHINE_CLIENTS: tuple[MachineClient, ...] = (SHOP,)


def clients_from_context(raw: Any) -> tuple[MachineClient, ...]:
    """MACHINE_CLIENTS and those the `machineClients` context adds or replaces (by name), from a
    JSON object or its text: `{"name": {"scopes": [...], "rate": 10, "burst": 20}}`."""
    if raw is None:
        return MACHINE_CLIENTS
    given = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(given, dict):
        raise ValueError("context machineClients must be a JSON object of name -> {scopes, rate, burst}")
    clients = {client.name: client for client in MACHINE_CLIENTS}
    for name, spec in given.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("scopes"), list):
            raise ValueError(f"context machineClients.{name}: needs a list of scopes")
        clients[name] = MachineClient(
            name,
            tuple(str(s) for s in spec["scopes"]),
            rate=float(spec.get("rate", 20.0)),
            burst=int(spec.get("burst", 40)),
        )
    return tuple(clients.values())


def client_named(name: str, clients: tuple[MachineClient, ...] = MACHINE_CLIENTS) -> MachineClient | None:
    return next((client for client in clients if client.name == name), None)
