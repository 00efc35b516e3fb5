"""Settings of the contact 360 functions, read once from the environment by the composition root;
the topology (infra/ecrm_infra/topology/contact360.py) names the model per function."""

from __future__ import annotations

from pydantic import Field

from ecrm.campaigns.names import Env as CampaignsEnv
from ecrm.cases.names import Env as CasesEnv
from ecrm.contact360.names import Env
from ecrm.journeys.names import Env as JourneysEnv
from ecrm.loyalty.names import Env as LoyaltyEnv
from ecrm.settings import FromEnv
from ecrm.webhooks.names import Env as WebhooksEnv


class Contact360ApiSettings(FromEnv):
    """The timeline and the complete GDPR export: every table that holds personal data, read only."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    cases_table: str = Field(alias=CasesEnv.CASES_TABLE)
    campaigns_table: str = Field(alias=CampaignsEnv.CAMPAIGNS_TABLE)
    loyalty_table: str = Field(alias=LoyaltyEnv.LOYALTY_TABLE)
    contact360_table: str = Field(alias=Env.CONTACT360_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)  # company changes announced with their writes
    webhooks_table: str = Field(alias=WebhooksEnv.WEBHOOKS_TABLE)
    journeys_table: str = Field(alias=JourneysEnv.JOURNEYS_TABLE)


class TimelineSettings(FromEnv):
    """Events off the bus onto each contact's timeline; a case's requester read from the Cases table."""

    contact360_table: str = Field(alias=Env.CONTACT360_TABLE)
    cases_table: str = Field(alias=CasesEnv.CASES_TABLE)
    retention: str = Field(alias=Env.TIMELINE_RETENTION, description="<kind>=<days>,...,default=<days>")


class CompanyLinkSettings(FromEnv):
    """Captured contacts linked to the company owning their address's domain; erased ones unlinked;
    a company's attributes told to its contacts."""

    contact360_table: str = Field(alias=Env.CONTACT360_TABLE)
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
