"""Names of the cases capability: table, queues, schedule group, mail and survey links, events.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike. Each class extends
the platform's in `ecrm.names`, so capability code and its topology module read shared and own
names from one class (`Env.OUTBOX_TABLE`, `Env.CASES_TABLE`); a capability adds names, never
redefines one (tests/unit/test_anatomy.py).
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the cases capability."""

    CASE_SCHEDULE_GROUP: Final = "CASE_SCHEDULE_GROUP_NAME"
    CASES_TABLE: Final = "CASES_TABLE_NAME"
    CASE_TIMER_QUEUE_URL: Final = "CASE_TIMER_QUEUE_URL"
    CASE_TIMER_QUEUE_ARN: Final = "CASE_TIMER_QUEUE_ARN"
    CASE_RECOMPUTE_QUEUE_URL: Final = "CASE_RECOMPUTE_QUEUE_URL"
    CASE_POLICY_CACHE_SECONDS: Final = "CASE_POLICY_CACHE_SECONDS"
    CASE_FALLBACK_ADDRESS: Final = "CASE_FALLBACK_ADDRESS"
    CASE_ACK_CHANNELS: Final = "CASE_ACK_CHANNELS"
    CSAT_URL: Final = "CSAT_PAGE_URL"
    CASE_AGENT_URL: Final = "CASE_AGENT_URL"
    CSAT_TTL_DAYS: Final = "CSAT_TOKEN_TTL_DAYS"


class Resource(names.Resource):
    """Logical names of resources of the cases capability."""

    CASES_TABLE: Final = "Cases"
    CASE_INTAKE_QUEUE: Final = "CaseIntakeQueue"  # other channels (e-mail-to-case, chat, partners) send here
    CASE_TIMER_QUEUE: Final = "CaseTimerQueue"  # SLA timers (Scheduler) and due timers sent straight
    CASE_RECOMPUTE_QUEUE: Final = "CaseRecomputeQueue"  # timer plans to redo after a policy edit
    CASE_MAIL_QUEUE: Final = "CaseMailQueue"
    CASE_ERASURE_QUEUE: Final = "CaseErasureQueue"
    CASE_SCHEDULES: Final = "CaseSchedules"


class DetailType(names.DetailType):
    """Versioned detail-types of the cases capability."""

    CASE_CREATED: Final = "CaseCreated.v1"
    CASE_UPDATED: Final = "CaseUpdated.v1"
    CASE_COMMENTED: Final = "CaseCommented.v1"
    CASE_ESCALATED: Final = "CaseEscalated.v1"
    SLA_WARNING: Final = "SlaWarning.v1"
    SLA_BREACHED: Final = "SlaBreached.v1"
    CASE_SOLVED: Final = "CaseSolved.v1"
    CASE_RATED: Final = "CaseRated.v1"
