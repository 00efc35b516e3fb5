"""Resource names and environment-variable names: the one plain module both CDK and runtime read.

No CDK and no boto3 here. The topology (infra/ecrm_infra/topology/) wires these names to
resources; each function's settings model (`ecrm.<capability>.settings`) reads them back from its
environment.
"""

from typing import Final

SERVICE: Final = "ecrm"
METRICS_NAMESPACE: Final = "eCRM"


class Source:
    """EventBridge `source` of each publisher. Our capabilities publish as `ecrm.<capability>`; the
    shop (an outside system) publishes orders as `shop`."""

    CONTACTS: Final = "ecrm.contacts"
    CASES: Final = "ecrm.cases"
    CAMPAIGNS: Final = "ecrm.campaigns"
    LOYALTY: Final = "ecrm.loyalty"
    SHOP: Final = "shop"


class Env:
    """Environment-variable names set on functions."""

    CONTACTS_TABLE: Final = "CONTACTS_TABLE_NAME"
    EVENT_BUS: Final = "EVENT_BUS_NAME"
    OUTBOX_TABLE: Final = "OUTBOX_TABLE_NAME"
    SIGNING_SECRET: Final = "SIGNING_SECRET_ID"  # noqa: S105 - a variable name, not a secret
    SENDER: Final = "SENDER_ADDRESS"
    SES_CONFIGURATION_SET: Final = "SES_CONFIGURATION_SET"
    CONFIRM_URL: Final = "CONFIRM_PAGE_URL"
    THANK_YOU_URL: Final = "THANK_YOU_URL"
    ALLOWED_ORIGINS: Final = "ALLOWED_ORIGINS"
    CONSENT_TEXT_VERSION: Final = "CONSENT_TEXT_VERSION"
    CONFIRM_TTL_HOURS: Final = "CONFIRM_TOKEN_TTL_HOURS"
    # each capability's own schedule group (one process runs every function locally: one name each)
    CASE_SCHEDULE_GROUP: Final = "CASE_SCHEDULE_GROUP_NAME"
    CAMPAIGN_SCHEDULE_GROUP: Final = "CAMPAIGN_SCHEDULE_GROUP_NAME"
    LOYALTY_SCHEDULE_GROUP: Final = "LOYALTY_SCHEDULE_GROUP_NAME"
    SCHEDULER_ROLE: Final = "SCHEDULER_ROLE_ARN"
    # cases
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
    # campaigns
    CAMPAIGNS_TABLE: Final = "CAMPAIGNS_TABLE_NAME"
    UNSUBSCRIBE_URL: Final = "UNSUBSCRIBE_URL"
    PREFERENCES_URL: Final = "PREFERENCES_URL"
    UNSUBSCRIBE_MAILTO: Final = "UNSUBSCRIBE_MAILTO"
    SEND_RATE: Final = "SEND_RATE_PER_SECOND"
    SEND_QUEUE_URL: Final = "CAMPAIGN_SEND_QUEUE_URL"
    PLAN_QUEUE_URL: Final = "CAMPAIGN_PLAN_QUEUE_URL"
    PLAN_QUEUE_ARN: Final = "CAMPAIGN_PLAN_QUEUE_ARN"
    TOPICS: Final = "CAMPAIGN_TOPICS"
    # loyalty
    LOYALTY_TABLE: Final = "LOYALTY_TABLE_NAME"
    LOYALTY_TIMER_QUEUE_URL: Final = "LOYALTY_TIMER_QUEUE_URL"
    LOYALTY_TIMER_QUEUE_ARN: Final = "LOYALTY_TIMER_QUEUE_ARN"


class Resource:
    """Logical names of shared resources (the physical name is derived per stack)."""

    CONTACTS_TABLE: Final = "Contacts"
    EVENT_BUS: Final = "Bus"
    OUTBOX_TABLE: Final = "Outbox"  # events committed with the writes they announce; its stream feeds the bus
    SIGNING_SECRET: Final = "LinkSigningKey"  # noqa: S105 - a resource name
    CONSENT_MAIL_QUEUE: Final = "ConsentMailQueue"
    # Each capability's timers live in a Scheduler schedule group of its own (the role Scheduler
    # delivers with is the platform's): a role that sets one capability's timers reaches no other's.
    MAIL: Final = "ses"  # sending mail: the sender identity and configuration set, not a stack resource
    # cases
    CASES_TABLE: Final = "Cases"
    CASE_INTAKE_QUEUE: Final = "CaseIntakeQueue"  # other channels (e-mail-to-case, chat, partners) send here
    CASE_TIMER_QUEUE: Final = "CaseTimerQueue"  # SLA timers (Scheduler) and due timers sent straight
    CASE_RECOMPUTE_QUEUE: Final = "CaseRecomputeQueue"  # timer plans to redo after a policy edit
    CASE_MAIL_QUEUE: Final = "CaseMailQueue"
    CASE_ERASURE_QUEUE: Final = "CaseErasureQueue"
    CASE_SCHEDULES: Final = "CaseSchedules"
    # campaigns
    CAMPAIGNS_TABLE: Final = "Campaigns"
    CAMPAIGN_PLAN_QUEUE: Final = "CampaignPlanQueue"
    CAMPAIGN_SEND_QUEUE: Final = "CampaignSendQueue"
    CAMPAIGN_TRIGGER_QUEUE: Final = "CampaignTriggerQueue"
    SES_FEEDBACK_QUEUE: Final = "SesFeedbackQueue"
    SEGMENT_INDEX_QUEUE: Final = "SegmentIndexQueue"
    CAMPAIGN_SCHEDULES: Final = "CampaignSchedules"
    # loyalty
    LOYALTY_TABLE: Final = "Loyalty"
    LOYALTY_ACCRUAL_QUEUE: Final = "LoyaltyAccrualQueue"
    LOYALTY_TIMER_QUEUE: Final = "LoyaltyTimerQueue"  # Scheduler's timers and ContactErased.v1
    LOYALTY_SCHEDULES: Final = "LoyaltySchedules"


class DetailType:
    """Versioned EventBridge detail-types: published by our capabilities, or consumed from the shop."""

    CONTACT_CAPTURED: Final = "ContactCaptured.v1"
    CONTACT_UPDATED: Final = "ContactUpdated.v1"
    CONSENT_CONFIRMED: Final = "ConsentConfirmed.v1"
    CONTACT_ERASED: Final = "ContactErased.v1"
    # cases
    CASE_CREATED: Final = "CaseCreated.v1"
    CASE_UPDATED: Final = "CaseUpdated.v1"
    CASE_COMMENTED: Final = "CaseCommented.v1"
    CASE_ESCALATED: Final = "CaseEscalated.v1"
    SLA_WARNING: Final = "SlaWarning.v1"
    SLA_BREACHED: Final = "SlaBreached.v1"
    CASE_SOLVED: Final = "CaseSolved.v1"
    CASE_RATED: Final = "CaseRated.v1"
    # campaigns
    CAMPAIGN_SCHEDULED: Final = "CampaignScheduled.v1"
    CAMPAIGN_SEND_STARTED: Final = "CampaignSendStarted.v1"
    CAMPAIGN_SENT: Final = "CampaignSent.v1"
    MAIL_SUPPRESSED: Final = "MailSuppressed.v1"
    CONTACT_UNSUBSCRIBED: Final = "ContactUnsubscribed.v1"
    # loyalty: consumed from the shop (source `shop`)
    ORDER_PLACED: Final = "OrderPlaced.v1"
    ORDER_REFUNDED: Final = "OrderRefunded.v1"
    # loyalty: published (source `ecrm.loyalty`)
    POINTS_EARNED: Final = "PointsEarned.v1"
    POINTS_REVERSED: Final = "PointsReversed.v1"
    POINTS_REDEEMED: Final = "PointsRedeemed.v1"
    POINTS_EXPIRED: Final = "PointsExpired.v1"
    POINTS_ADJUSTED: Final = "PointsAdjusted.v1"
    TIER_CHANGED: Final = "TierChanged.v1"


class Role:
    ADMIN: Final = "admin"
    AGENT: Final = "agent"
    MARKETER: Final = "marketer"
    ALL: Final = (ADMIN, AGENT, MARKETER)
