"""Cases and escalation: public form and survey, the agents' API, administration, the intake queue,
SLA timers, replanning after policy edits, case mail, and redaction on a requester's erasure."""

from __future__ import annotations

from ecrm import access
from ecrm.cases import settings
from ecrm.cases.names import DetailType, Env, Resource
from ecrm.names import Source

from ecrm_infra.topology.contacts import MAIL_LOG
from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import (
    Access,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Table,
    timer_env,
    timer_grants,
)

# Every function that changes cases: the table, the outbox, the SLA timers, the policy cache.
WRITER_ENV = {
    Env.CASES_TABLE: Resource.CASES_TABLE,
    **OUTBOX_ENV,
    **timer_env(
        Resource.CASE_SCHEDULES,
        Env.CASE_SCHEDULE_GROUP,
        Resource.CASE_TIMER_QUEUE,
        Env.CASE_TIMER_QUEUE_URL,
        Env.CASE_TIMER_QUEUE_ARN,
    ),
    Env.CASE_POLICY_CACHE_SECONDS: "context:casePolicyCacheSeconds",
}
# Cases are written whole (versioned puts); listings (queues, a policy's active cases) Query.
WRITER_GRANTS = {
    Resource.CASES_TABLE: Access.READ | Access.PUT,
    **OUTBOX_GRANT,
    **timer_grants(Resource.CASE_SCHEDULES, Resource.CASE_TIMER_QUEUE),
}
# ... and those that open cases: requesters become contacts (announced through the outbox too).
INTAKE_ENV = {**WRITER_ENV, Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE}
INTAKE_GRANTS = {**WRITER_GRANTS, Resource.CONTACTS_TABLE: Access.READ | Access.PUT}
LISTING = {Resource.CASES_TABLE: Access.READ | Access.QUERY | Access.PUT}

CASES = Capability(
    name="Cases",
    schedule_group=Resource.CASE_SCHEDULES,
    tables=(Table(Resource.CASES_TABLE, indexes=("gsi1", "gsi2", "gsi3", "gsi4")),),
    functions=(
        Function(
            name="cases_form",
            description="Public support form (opens cases) and the CSAT survey of the solve mail",
            settings=settings.CasesFormSettings,
            env={
                **INTAKE_ENV,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.THANK_YOU_URL: "context:thankYouUrl",
                Env.ALLOWED_ORIGINS: "context:allowedOrigins",
            },
            grants={**INTAKE_GRANTS, Resource.SIGNING_SECRET: Access.READ},
            routes=access.CASES_FORM,
        ),
        Function(
            name="cases_api",
            description="Agents: work queues, a case with its history, edits, comments, solve and reopen",
            settings=settings.CasesApiSettings,
            env=dict(INTAKE_ENV),
            grants={**INTAKE_GRANTS, **LISTING},
            routes=access.CASES_API,
        ),
        Function(
            name="cases_admin",
            description="SLA policies and calendars, team leads and management, support metrics",
            settings=settings.CasesAdminSettings,
            env={
                Env.CASES_TABLE: Resource.CASES_TABLE,
                Env.CASE_RECOMPUTE_QUEUE_URL: Resource.CASE_RECOMPUTE_QUEUE,
                Env.CASE_POLICY_CACHE_SECONDS: "context:casePolicyCacheSeconds",
            },
            grants={**LISTING, Resource.CASE_RECOMPUTE_QUEUE: Access.SEND},
            routes=access.CASES_ADMIN,
        ),
        Function(
            name="cases_intake",
            description="Cases from other channels (e-mail-to-case, chat, partners), once per channel message",
            settings=settings.CaseIntakeSettings,
            env=dict(INTAKE_ENV),
            grants=dict(INTAKE_GRANTS),
            # No rule: other systems send here (docs/cases.md gives the message schema and who may).
            queue=QueueTrigger(queue=Resource.CASE_INTAKE_QUEUE),
            timeout_seconds=30,
        ),
        Function(
            name="cases_timers",
            description="SLA timers coming due: warnings and escalation levels, each applied once",
            settings=settings.CaseTimerSettings,
            env=dict(WRITER_ENV),
            grants=dict(WRITER_GRANTS),
            queue=QueueTrigger(queue=Resource.CASE_TIMER_QUEUE, scheduler_target=True),
            timeout_seconds=30,
        ),
        Function(
            name="cases_recompute",
            description="New SLA timer plans for the active cases an SLA policy edit affects, a page per message",
            settings=settings.CaseRecomputeSettings,
            env={**WRITER_ENV, Env.CASE_RECOMPUTE_QUEUE_URL: Resource.CASE_RECOMPUTE_QUEUE},
            grants={**WRITER_GRANTS, **LISTING, Resource.CASE_RECOMPUTE_QUEUE: Access.SEND},
            queue=QueueTrigger(queue=Resource.CASE_RECOMPUTE_QUEUE, batch_size=1),
            timeout_seconds=60,
        ),
        Function(
            name="cases_mailer",
            description="Case mail: acknowledgements, public replies, CSAT surveys, SLA notices, once each",
            settings=settings.CaseMailerSettings,
            env={
                Env.CASES_TABLE: Resource.CASES_TABLE,
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
                Env.CSAT_URL: "context:csatPageUrl",
                Env.CASE_AGENT_URL: "context:caseAgentUrl",
                Env.CSAT_TTL_DAYS: "context:csatTokenTtlDays",
                Env.CASE_FALLBACK_ADDRESS: "context:caseFallbackAddress",
                Env.CASE_ACK_CHANNELS: "context:caseAckChannels",
            },
            grants={
                Resource.CASES_TABLE: MAIL_LOG | Access.QUERY,  # the case's mail claims; its history
                Resource.CONTACTS_TABLE: Access.READ,
                Resource.SIGNING_SECRET: Access.READ,
                Resource.MAIL: Access.SEND_MAIL,
            },
            queue=QueueTrigger(
                queue=Resource.CASE_MAIL_QUEUE,
                rule=EventRule(
                    sources=(Source.CASES,),
                    detail_types=(
                        DetailType.SLA_WARNING,
                        DetailType.CASE_ESCALATED,
                        DetailType.CASE_COMMENTED,
                        DetailType.CASE_SOLVED,
                        DetailType.CASE_CREATED,  # the acknowledgement to the requester
                    ),
                ),
            ),
            timeout_seconds=20,
        ),
        Function(
            name="cases_erasure",
            description="Redacts the cases of a requester whose contact was erased",
            settings=settings.CaseErasureSettings,
            env={Env.CASES_TABLE: Resource.CASES_TABLE},
            # Finds the requester's cases, puts each back redacted, rewrites its comments and audit in batches.
            grants={Resource.CASES_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.BATCH_WRITE},
            queue=QueueTrigger(
                queue=Resource.CASE_ERASURE_QUEUE,
                rule=EventRule(sources=(Source.CONTACTS,), detail_types=(DetailType.CONTACT_ERASED,)),
                batch_size=5,
            ),
            timeout_seconds=60,
        ),
    ),
    context_defaults={
        "csatPageUrl": "http://localhost:3000/cases/csat",
        # The agent UI's page of a case; without one, the API's own GET /cases/{id}.
        "caseAgentUrl": "http://localhost:3000/cases/{case_id}",
        "csatTokenTtlDays": "14",
        "caseFallbackAddress": "support-managers@example.com",
        # New cases of these channels get an acknowledgement mail (chat: the customer is in the
        # conversation; partner systems tell their own customers).
        "caseAckChannels": "web,email,agent",
        "casePolicyCacheSeconds": "30",
    },
    alarms=(
        MetricAlarm(
            "SlaBreached",
            threshold=10,
            description="Cases: more than 10 SLA breaches in an hour (EMF metric from the timer consumer)",
            period_minutes=60,
        ),
    ),
)
