"""Optimistic locking on the wire, shared by every API that changes a versioned item."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ecrm.model import Model


class Transition(Model):
    """A state change (solve, reopen, schedule, pause, ...): optionally the version the caller saw,
    so an action taken on a stale screen answers 409 instead of acting on something else."""

    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = Field(default=None, ge=1)
