"""The base of every function's settings model, and the platform functions' own settings.

A capability's settings models live with it (`ecrm.<capability>.settings`), read once from the
environment by its composition root. tests/infra checks every function's CDK environment against
the model named in the topology.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import ConfigDict, Field

from ecrm.model import Model
from ecrm.names import Env


class FromEnv(Model):
    """A settings model read from the environment (its fields' aliases are the variable names)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class EventRelaySettings(FromEnv):
    """The outbox relay: the Outbox table's stream -> the bus."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
