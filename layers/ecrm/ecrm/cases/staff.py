"""Who to tell inside the company: agents' addresses, team leads, management.

There is no directory lookup at run time (Cognito's ListUsers is rate-limited and slow, and not
every agent's address is a mailbox anyway). Instead:
- every signed-in caller of the cases API is remembered by user id (`sub`) with the e-mail address
  from their token, so an assignee's address is known once they have used the API;
- admins keep the team leads and the management list (one versioned configuration item);
- a configured fallback address gets what nobody else would (no lead, no management set), so an
  escalation notice always reaches a person.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ConfigDict, Field

from ecrm.access import Caller
from ecrm.cases.models import StaffConfig, Team
from ecrm.cases.ports import StaffStore
from ecrm.clock import Clock
from ecrm.model import Model
from ecrm.types import Email


class StaffConfigUpdate(Model):
    """PUT /cases/staff: the whole configuration, against the version it was read at."""

    model_config = ConfigDict(extra="forbid")

    team_leads: dict[Team, Email] = Field(default_factory=dict, max_length=200)
    management: list[Email] = Field(default_factory=list, max_length=20)
    expected_version: int = Field(ge=0, description="0 for the first save")


class Staff:
    """The StaffDirectory port the case mailer reads."""

    def __init__(self, store: StaffStore, fallback: str) -> None:
        self._store = store
        self._fallback = fallback

    def email_of(self, user_id: str) -> str | None:
        return self._store.email_of(user_id)

    def team_lead(self, team: str) -> str | None:
        return self._store.config().team_leads.get(team)

    def management(self) -> Sequence[str]:
        return self._store.config().management or [self._fallback]


class StaffAdmin:
    def __init__(self, store: StaffStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._seen: set[tuple[str, str]] = set()  # per process: remember each caller once

    def remember(self, caller: Caller) -> None:
        """Keep the signed-in caller's address (from the authorizer's claims) for notices."""
        if not caller.user_id or not caller.email or (caller.user_id, caller.email) in self._seen:
            return
        self._store.remember(caller.user_id, caller.email, self._clock.now())
        self._seen.add((caller.user_id, caller.email))

    def get(self) -> StaffConfig:
        return self._store.config()

    def update(self, req: StaffConfigUpdate) -> StaffConfig:
        config = StaffConfig(
            team_leads=dict(req.team_leads), management=list(req.management), version=req.expected_version + 1
        )
        self._store.save_config(config, req.expected_version)
        return config
