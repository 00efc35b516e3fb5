"""SLA and escalation policies: configuration, validated once, read by the pure rules.

A policy names its business calendar, a first-response and a resolution target per priority, when
to warn (a fraction of the target), and its escalation ladder. A book of policies holds one default
and any number of overrides for a team, a tag or both; the most specific match wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from ecrm.cases.calendar import BusinessCalendar
from ecrm.cases.models import Case, Milestone, Priority, Team
from ecrm.model import Model
from ecrm.types import Tag

Action = Literal[
    "notify_assignee", "notify_team_lead", "move_to_escalation_team", "raise_priority", "notify_management"
]
Target = Annotated[timedelta, Field(gt=timedelta(0))]


class EscalationLevel(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    after_breach: Annotated[timedelta, Field(ge=timedelta(0))] = Field(description="business time after the breach")
    actions: tuple[Action, ...] = Field(min_length=1)


class EscalationPolicy(Model):
    """Level n fires `after_breach` of business time after the milestone's deadline. Level 1 is the
    breach itself, so its delay is zero; delays never shrink from one level to the next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: tuple[EscalationLevel, ...] = Field(min_length=1)
    escalation_team: Team | None = None

    @model_validator(mode="after")
    def _ladder(self) -> Self:
        if self.levels[0].after_breach != timedelta(0):
            raise ValueError("level 1 is the breach: its after_breach must be zero")
        delays = [level.after_breach for level in self.levels]
        if delays != sorted(delays):
            raise ValueError("after_breach must not decrease from one level to the next")
        moves = any("move_to_escalation_team" in level.actions for level in self.levels)
        if moves and self.escalation_team is None:
            raise ValueError("move_to_escalation_team needs an escalation_team")
        return self

    def level(self, number: int) -> EscalationLevel:
        return self.levels[number - 1]


class Targets(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    first_response: Target | None = None
    resolution: Target | None = None

    def of(self, milestone: Milestone) -> timedelta | None:
        return self.first_response if milestone == "first_response" else self.resolution


DEFAULT_ESCALATION = EscalationPolicy(
    levels=(
        EscalationLevel(after_breach=timedelta(0), actions=("notify_assignee",)),
        EscalationLevel(after_breach=timedelta(hours=2), actions=("notify_team_lead", "move_to_escalation_team")),
        EscalationLevel(after_breach=timedelta(hours=4), actions=("raise_priority", "notify_management")),
    ),
    escalation_team="escalations",
)


class SlaPolicy(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    calendar: BusinessCalendar = BusinessCalendar()
    targets: dict[Priority, Targets] = Field(description="a priority left out has no SLA")
    warning_fraction: Annotated[float, Field(gt=0, lt=1)] | None = 0.75
    escalation: EscalationPolicy = DEFAULT_ESCALATION
    team: Team | None = Field(default=None, description="applies to the cases of this team")
    tag: Tag | None = Field(default=None, description="applies to the cases with this tag")

    def target(self, priority: Priority, milestone: Milestone) -> timedelta | None:
        targets = self.targets.get(priority)
        return targets.of(milestone) if targets else None

    @property
    def specificity(self) -> int:
        return (2 if self.team else 0) + (1 if self.tag else 0)

    def matches(self, team: str | None, tags: Iterable[str]) -> bool:
        return (self.team is None or self.team == team) and (self.tag is None or self.tag in set(tags))


class PolicyBook(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policies: tuple[SlaPolicy, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_default(self) -> Self:
        if sum(1 for p in self.policies if p.specificity == 0) != 1:
            raise ValueError("exactly one policy must have neither team nor tag (the default)")
        ids = [p.id for p in self.policies]
        if len(ids) != len(set(ids)):
            raise ValueError("policy ids must be unique")
        return self

    def select(self, team: str | None, tags: Iterable[str]) -> SlaPolicy:
        """The most specific matching policy (team and tag, then team, then tag, then the default);
        among equals, the first listed."""
        tags = list(tags)
        matching = [p for p in self.policies if p.matches(team, tags)]
        return max(matching, key=lambda p: p.specificity)  # max keeps the first of equals

    def for_case(self, case: Case) -> SlaPolicy:
        return self.select(case.team, case.tags)

    def governing(self, case: Case) -> SlaPolicy:
        """The policy the case's clocks have run under so far (the one recorded on it, while it
        exists), which may differ from the one its new team or tags select."""
        recorded = next((p for p in self.policies if p.id == case.sla.policy_id), None)
        return recorded or self.for_case(case)


def _hours(first_response: float, resolution: float) -> Targets:
    return Targets(first_response=timedelta(hours=first_response), resolution=timedelta(hours=resolution))


def standard_book(calendar: BusinessCalendar | None = None) -> PolicyBook:
    """A sensible starting point (and what the local stack runs): business hours for every
    priority, and cases tagged `vip` on a round-the-clock calendar with shorter targets."""
    hours = calendar or BusinessCalendar()
    return PolicyBook(
        policies=(
            SlaPolicy(
                id="standard",
                calendar=hours,
                targets={"low": _hours(16, 80), "normal": _hours(8, 40), "high": _hours(2, 16), "urgent": _hours(1, 8)},
            ),
            SlaPolicy(
                id="vip",
                calendar=BusinessCalendar.always_open(hours.timezone),
                targets={"low": _hours(8, 48), "normal": _hours(4, 24), "high": _hours(1, 8), "urgent": _hours(0.5, 4)},
                tag="vip",
            ),
        )
    )


class PolicyBookView(Model):
    version: int = Field(ge=0, description="0: the standard book, never edited")
    book: PolicyBook
    updated_at: datetime | None = None
    updated_by: str | None = None
