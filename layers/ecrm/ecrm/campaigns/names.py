"""Names of the campaigns capability: table, queues, schedule group, unsubscribe links, events.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike. Each class extends
the platform's in `ecrm.names`, so capability code and its topology module read shared and own
names from one class (`Env.OUTBOX_TABLE`, `Env.CASES_TABLE`); a capability adds names, never
redefines one (tests/unit/test_anatomy.py).
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the campaigns capability."""

    CAMPAIGN_SCHEDULE_GROUP: Final = "CAMPAIGN_SCHEDULE_GROUP_NAME"
    CAMPAIGNS_TABLE: Final = "CAMPAIGNS_TABLE_NAME"
    UNSUBSCRIBE_URL: Final = "UNSUBSCRIBE_URL"
    PREFERENCES_URL: Final = "PREFERENCES_URL"
    UNSUBSCRIBE_MAILTO: Final = "UNSUBSCRIBE_MAILTO"
    SEND_RATE: Final = "SEND_RATE_PER_SECOND"
    SENDER_LANES: Final = "SENDER_LANES"
    SEND_QUEUE_URL: Final = "CAMPAIGN_SEND_QUEUE_URL"
    PLAN_QUEUE_URL: Final = "CAMPAIGN_PLAN_QUEUE_URL"
    PLAN_QUEUE_ARN: Final = "CAMPAIGN_PLAN_QUEUE_ARN"
    TOPICS: Final = "CAMPAIGN_TOPICS"


class Resource(names.Resource):
    """Logical names of resources of the campaigns capability."""

    CAMPAIGNS_TABLE: Final = "Campaigns"
    CAMPAIGN_PLAN_QUEUE: Final = "CampaignPlanQueue"
    CAMPAIGN_SEND_QUEUE: Final = "CampaignSendQueue"
    CAMPAIGN_TRIGGER_QUEUE: Final = "CampaignTriggerQueue"
    SES_FEEDBACK_QUEUE: Final = "SesFeedbackQueue"
    SEGMENT_INDEX_QUEUE: Final = "SegmentIndexQueue"
    CAMPAIGN_SCHEDULES: Final = "CampaignSchedules"


class DetailType(names.DetailType):
    """Versioned detail-types of the campaigns capability."""

    CAMPAIGN_SCHEDULED: Final = "CampaignScheduled.v1"
    CAMPAIGN_SEND_STARTED: Final = "CampaignSendStarted.v1"
    CAMPAIGN_SENT: Final = "CampaignSent.v1"
    MAIL_SUPPRESSED: Final = "MailSuppressed.v1"
    CONTACT_UNSUBSCRIBED: Final = "ContactUnsubscribed.v1"
