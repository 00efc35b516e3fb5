"""Contact 360: one contact as every capability holds them. Its export reads every table that may
hold personal data (each `Table` without `no_personal_data`), through each capability's own adapter,
and writes nothing. Listed after the capabilities whose tables it reads; its routes hang below the
contacts' `/contacts/{contact_id}` resource (taken by id from the Contacts stack)."""

from __future__ import annotations

from ecrm import access
from ecrm.campaigns.names import Env as CampaignsEnv
from ecrm.campaigns.names import Resource as CampaignsResource
from ecrm.cases.names import Env as CasesEnv
from ecrm.cases.names import Resource as CasesResource
from ecrm.contact360 import settings
from ecrm.contact360.names import Env, Resource
from ecrm.loyalty.names import Env as LoyaltyEnv
from ecrm.loyalty.names import Resource as LoyaltyResource

from ecrm_infra.topology.spec import Access, Capability, Function

# env var -> table: every table holding personal data, each read by its capability's adapter
PERSONAL_DATA_TABLES = {
    Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
    CasesEnv.CASES_TABLE: CasesResource.CASES_TABLE,
    CampaignsEnv.CAMPAIGNS_TABLE: CampaignsResource.CAMPAIGNS_TABLE,
    LoyaltyEnv.LOYALTY_TABLE: LoyaltyResource.LOYALTY_TABLE,
}

CONTACT360 = Capability(
    name="Contact360",
    functions=(
        Function(
            name="contact360_api",
            description="Role-protected contact 360: the complete GDPR export across every capability",
            settings=settings.Contact360ApiSettings,
            env=dict(PERSONAL_DATA_TABLES),
            # Finds each item by key or by partition, never by Scan, and writes nothing: the profile
            # and the address's item by key; cases through the requester's links and each case's
            # partition (Query only); the suppression entry by the address's hash; orders by id.
            grants={
                Resource.CONTACTS_TABLE: Access.READ | Access.QUERY,
                CasesResource.CASES_TABLE: Access.QUERY,
                CampaignsResource.CAMPAIGNS_TABLE: Access.READ | Access.QUERY,
                LoyaltyResource.LOYALTY_TABLE: Access.READ | Access.QUERY,
            },
            routes=access.CONTACT360_API,
            timeout_seconds=30,
        ),
    ),
)
