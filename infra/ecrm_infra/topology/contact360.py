"""Contact 360: one contact as every capability holds them. Each contact's timeline is built from the
bus into its own table (the kinds each capability declares, ecrm.timeline); its export reads every
table that may hold personal data (each `Table` without `no_personal_data`), through each
capability's own adapter, and writes nothing. Listed after the capabilities whose tables it reads;
its routes hang below the contacts' `/contacts/{contact_id}` resource (taken by id from that stack)."""

from __future__ import annotations

from ecrm import access
from ecrm.campaigns.names import Env as CampaignsEnv
from ecrm.campaigns.names import Resource as CampaignsResource
from ecrm.cases.names import Env as CasesEnv
from ecrm.cases.names import Resource as CasesResource
from ecrm.contact360 import settings
from ecrm.contact360.names import DetailType as Contact360DetailType
from ecrm.contact360.names import Env, Resource
from ecrm.journeys.names import Env as JourneysEnv
from ecrm.journeys.names import Resource as JourneysResource
from ecrm.loyalty.names import Env as LoyaltyEnv
from ecrm.loyalty.names import Resource as LoyaltyResource
from ecrm.names import DetailType, Source
from ecrm.timeline import declared
from ecrm.webhooks.names import Env as WebhooksEnv
from ecrm.webhooks.names import Resource as WebhooksResource

from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import Access, Capability, EventRule, Function, MetricAlarm, QueueTrigger, Table

# Every event some capability's timeline kinds read, and the erasure that empties a timeline: ours
# on our bus, AWS services' (SES's mail events) on the account's default bus.
_OURS = [k for k in declared() if k.bus == "custom"]
_AWS = [k for k in declared() if k.bus == "default"]
TIMELINE_RULES = (
    EventRule(
        sources=tuple(sorted({k.source for k in _OURS} | {Source.CONTACTS})),
        detail_types=tuple(sorted({k.detail_type for k in _OURS} | {DetailType.CONTACT_ERASED})),
    ),
    EventRule(
        sources=tuple(sorted({k.source for k in _AWS})),
        detail_types=tuple(sorted({k.detail_type for k in _AWS})),
        bus="default",
    ),
)

# env var -> table: every table holding personal data, each read by its capability's adapter
PERSONAL_DATA_TABLES = {
    Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
    CasesEnv.CASES_TABLE: CasesResource.CASES_TABLE,
    CampaignsEnv.CAMPAIGNS_TABLE: CampaignsResource.CAMPAIGNS_TABLE,
    LoyaltyEnv.LOYALTY_TABLE: LoyaltyResource.LOYALTY_TABLE,
    Env.CONTACT360_TABLE: Resource.CONTACT360_TABLE,
    WebhooksEnv.WEBHOOKS_TABLE: WebhooksResource.WEBHOOKS_TABLE,
    JourneysEnv.JOURNEYS_TABLE: JourneysResource.JOURNEYS_TABLE,
}

CONTACT360 = Capability(
    name="Contact360",
    tables=(Table(Resource.CONTACT360_TABLE),),
    context_defaults={"timelineRetentionDays": "default=730,case.sla_breached=365"},
    functions=(
        Function(
            name="contact360_api",
            description="Role-protected contact 360: a contact's timeline and their complete GDPR export",
            settings=settings.Contact360ApiSettings,
            env={**PERSONAL_DATA_TABLES, **OUTBOX_ENV},
            # Finds each item by key or by partition, never by Scan, and writes nothing: the profile
            # and the address's item by key; cases through the requester's links and each case's
            # partition (Query only); the suppression entry by the address's hash; orders by id.
            grants={
                Resource.CONTACTS_TABLE: Access.READ | Access.QUERY,
                CasesResource.CASES_TABLE: Access.READ | Access.QUERY,  # related: a requester's cases, batched
                CampaignsResource.CAMPAIGNS_TABLE: Access.READ | Access.QUERY,
                LoyaltyResource.LOYALTY_TABLE: Access.READ | Access.QUERY,
                WebhooksResource.WEBHOOKS_TABLE: Access.QUERY,  # deliveries naming the contact (gsi1)
                JourneysResource.JOURNEYS_TABLE: Access.QUERY,  # the contact's partition: progress, mail claims
                # the timeline, its part of the export; companies: a company, its domains' owners and its
                # members written in transactions (Put, Delete), read by key and by partition
                Resource.CONTACT360_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.DELETE | Access.CHECK,
                **OUTBOX_GRANT,  # a company's changes and its contacts' links, announced with the write
            },
            routes=access.CONTACT360_API,
            timeout_seconds=30,
        ),
        Function(
            name="contact360_timeline",
            description="Every event a timeline kind reads -> the timeline of the contact it names; erasure empties it",
            settings=settings.TimelineSettings,
            env={
                Env.CONTACT360_TABLE: Resource.CONTACT360_TABLE,
                CasesEnv.CASES_TABLE: CasesResource.CASES_TABLE,
                Env.TIMELINE_RETENTION: "context:timelineRetentionDays",
            },
            grants={
                # an entry: one transaction, the tombstone checked and the entry put; an erasure:
                # the tombstone put, the entries queried and deleted in batches
                Resource.CONTACT360_TABLE: Access.PUT | Access.CHECK | Access.QUERY | Access.BATCH_WRITE,
                CasesResource.CASES_TABLE: Access.READ,  # a case's requester
            },
            queue=QueueTrigger(Resource.TIMELINE_QUEUE, rule=TIMELINE_RULES[0], more_rules=TIMELINE_RULES[1:]),
        ),
        Function(
            name="contact360_companies",
            description="A captured contact joins the company owning its address's domain; an erased one leaves",
            settings=settings.CompanyLinkSettings,
            env={
                Env.CONTACT360_TABLE: Resource.CONTACT360_TABLE,
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                **OUTBOX_ENV,
            },
            grants={
                Resource.CONTACTS_TABLE: Access.READ,  # the contact's address
                # the domain's owner and the contact's link read; link and member put and deleted
                # together, the company's version checked; a company's members queried
                Resource.CONTACT360_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.DELETE | Access.CHECK,
                **OUTBOX_GRANT,
            },
            queue=QueueTrigger(
                Resource.COMPANY_LINK_QUEUE,
                rule=EventRule(
                    sources=(Source.CONTACTS, Source.CONTACT360),
                    detail_types=(
                        DetailType.CONTACT_CAPTURED,
                        DetailType.CONTACT_ERASED,
                        Contact360DetailType.COMPANY_UPDATED,
                    ),
                ),
            ),
            timeout_seconds=60,  # a company's changed attributes told to each of its contacts
        ),
    ),
    alarms=(
        MetricAlarm(
            metric="CompanyLinkMalformed",
            threshold=0,
            description="A contact event the company links read could not be read: it went to the DLQ",
        ),
        MetricAlarm(
            metric="TimelineMalformed",
            threshold=0,
            description="An event a timeline kind reads could not be read: it went to the DLQ",
        ),
    ),
)
