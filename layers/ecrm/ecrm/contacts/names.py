"""Names of the contacts capability: the consent pages and mail. The Contacts table and the contact
events are the platform's (`ecrm.names`): every capability reads them.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike. Each class extends
the platform's in `ecrm.names`, so capability code and its topology module read shared and own
names from one class (`Env.OUTBOX_TABLE`, `Env.CASES_TABLE`); a capability adds names, never
redefines one (tests/unit/test_anatomy.py).
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the contacts capability."""

    CONFIRM_URL: Final = "CONFIRM_PAGE_URL"
    CONSENT_TEXT_VERSION: Final = "CONSENT_TEXT_VERSION"
    CONFIRM_TTL_HOURS: Final = "CONFIRM_TOKEN_TTL_HOURS"
    PHONE_COUNTRY_CODE: Final = "DEFAULT_PHONE_COUNTRY_CODE"


class Resource(names.Resource):
    """Logical names of resources of the contacts capability."""

    CONSENT_MAIL_QUEUE: Final = "ConsentMailQueue"
