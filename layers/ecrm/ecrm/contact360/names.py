"""Names of the contact 360 capability: its own table (the timelines) and settings. It reads the other
capabilities' tables by their own names (`ecrm.cases.names.Env.CASES_TABLE`, ...).

Plain constants (no CDK, no boto3), read by the topology and the runtime alike.
"""

from typing import Final

from ecrm import names

# A company attribute's key (`industry`, `size`): the company record's rule, and the campaigns'
# segment rules on those attributes.
ATTRIBUTE_KEY = r"^[a-z][a-z0-9_]{0,39}$"


class Env(names.Env):
    """Environment-variable names of the contact 360 capability."""

    CONTACT360_TABLE: Final = "CONTACT360_TABLE_NAME"
    TIMELINE_RETENTION: Final = "TIMELINE_RETENTION_DAYS"


class Resource(names.Resource):
    """Logical names of the contact 360's resources."""

    CONTACT360_TABLE: Final = "Contact360"  # each contact's timeline, companies and their members
    TIMELINE_QUEUE: Final = "TimelineQueue"  # every event a timeline kind reads, and ContactErased
    COMPANY_LINK_QUEUE: Final = "CompanyLinkQueue"  # ContactCaptured and ContactErased


class DetailType(names.DetailType):
    """Events the contact 360 publishes (ecrm.contact360.events)."""

    COMPANY_UPDATED: Final = "CompanyUpdated.v1"
    CONTACT_COMPANY_CHANGED: Final = "ContactCompanyChanged.v1"
