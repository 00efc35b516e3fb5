"""Settings of the cases functions: the writers (SLA timers, policy cache), the form, API, admin and mailer.

Each model is read once from the environment by the composition root; the topology
(infra/ecrm_infra/topology/cases.py) names it per function, and tests/infra checks the function's
environment against it.
"""

from __future__ import annotations

from pydantic import Field

from ecrm.cases.names import Env
from ecrm.settings import FromEnv


class _CasesTable(FromEnv):
    cases_table: str = Field(alias=Env.CASES_TABLE)


class CaseWriterSettings(_CasesTable):
    """What every function that changes cases needs: their table, the outbox (events commit with
    the change), the SLA timers (the stack's schedule group, the role Scheduler delivers with, the
    timer queue) and the policy cache."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    schedule_group: str = Field(alias=Env.CASE_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    timer_queue_url: str = Field(alias=Env.CASE_TIMER_QUEUE_URL)
    timer_queue_arn: str = Field(alias=Env.CASE_TIMER_QUEUE_ARN)
    policy_cache_seconds: int = Field(alias=Env.CASE_POLICY_CACHE_SECONDS, ge=0, le=600)


class CaseTimerSettings(CaseWriterSettings):
    """The SLA timer consumer."""


class CaseIntakeSettings(CaseWriterSettings):
    """The intake queue consumer: requesters become contacts."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class CasesFormSettings(CaseIntakeSettings):
    """The public support form and the CSAT survey."""

    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    thank_you_url: str = Field(alias=Env.THANK_YOU_URL)
    allowed_origins: str = Field(alias=Env.ALLOWED_ORIGINS, description="comma-separated origins")

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())


class CaseRecomputeSettings(CaseWriterSettings):
    """Timer plans redone after a policy edit, a page of cases per message."""

    recompute_queue_url: str = Field(alias=Env.CASE_RECOMPUTE_QUEUE_URL)


class CasesApiSettings(CaseIntakeSettings):
    """The role-protected cases API for agents."""


class CasesAdminSettings(_CasesTable):
    """SLA policies, the staff directory and metrics (admins; metrics and policies readable by agents)."""

    recompute_queue_url: str = Field(alias=Env.CASE_RECOMPUTE_QUEUE_URL)
    policy_cache_seconds: int = Field(alias=Env.CASE_POLICY_CACHE_SECONDS, ge=0, le=600)


class CaseMailerSettings(_CasesTable):
    """Case mail: public replies, CSAT surveys, SLA warnings and escalation notices."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    csat_url: str = Field(alias=Env.CSAT_URL)
    case_url: str = Field(alias=Env.CASE_AGENT_URL, description="the agent UI's case page, with {case_id}")
    csat_ttl_days: int = Field(alias=Env.CSAT_TTL_DAYS, ge=1, le=90)
    fallback_address: str = Field(alias=Env.CASE_FALLBACK_ADDRESS, description="gets notices nobody else would")
    ack_channels: str = Field(
        default="",
        alias=Env.CASE_ACK_CHANNELS,
        pattern=r"^((web|agent|email|chat|partner)(,(web|agent|email|chat|partner))*)?$",
        description="channels whose new cases are acknowledged to the requester by mail, comma-separated",
    )

    @property
    def acknowledged_channels(self) -> frozenset[str]:
        return frozenset(c for c in self.ack_channels.split(",") if c)


class CaseErasureSettings(_CasesTable):
    """Redacts the cases of a contact who was erased."""
