"""The platform's resource and environment-variable names, publishers, detail-types and roles.

Plain constants read by both CDK and the runtime: no CDK and no boto3 here. A capability's own
names live with it (`ecrm.<capability>.names`), in classes that extend these. The topology
(infra/ecrm_infra/topology/) wires the names to resources; each function's settings model
(`ecrm.<capability>.settings`) reads them back from its environment.
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
    CONTACT360: Final = "ecrm.contact360"
    JOURNEYS: Final = "ecrm.journeys"
    SHOP: Final = "shop"


class Env:
    """Environment-variable names set on functions."""

    CONTACTS_TABLE: Final = "CONTACTS_TABLE_NAME"
    LAMBDA_HANDLER: Final = "_HANDLER"  # set by Lambda's runtime: `contacts_api.handler.lambda_handler`
    EVENT_BUS: Final = "EVENT_BUS_NAME"
    OUTBOX_TABLE: Final = "OUTBOX_TABLE_NAME"
    SIGNING_SECRET: Final = "SIGNING_SECRET_ID"  # noqa: S105 - a variable name, not a secret
    SENDER: Final = "SENDER_ADDRESS"
    SES_CONFIGURATION_SET: Final = "SES_CONFIGURATION_SET"
    THANK_YOU_URL: Final = "THANK_YOU_URL"
    ALLOWED_ORIGINS: Final = "ALLOWED_ORIGINS"
    # the role Scheduler delivers every capability's timers with; each capability names its own
    # schedule group (`ecrm.<capability>.names`: one process runs every function locally, one name each)
    SCHEDULER_ROLE: Final = "SCHEDULER_ROLE_ARN"


class Resource:
    """Logical names of shared resources (the physical name is derived per stack)."""

    CONTACTS_TABLE: Final = "Contacts"
    EVENT_BUS: Final = "Bus"
    OUTBOX_TABLE: Final = "Outbox"  # events committed with the writes they announce; its stream feeds the bus
    SIGNING_SECRET: Final = "LinkSigningKey"  # noqa: S105 - a resource name
    MAIL: Final = "ses"  # sending mail: the sender identity and configuration set, not a stack resource


class DetailType:
    """Versioned EventBridge detail-types of the contacts, which every capability hears; each capability
    adds its own (`ecrm.<capability>.names.DetailType`)."""

    CONTACT_CAPTURED: Final = "ContactCaptured.v1"
    CONTACT_UPDATED: Final = "ContactUpdated.v1"
    CONSENT_CONFIRMED: Final = "ConsentConfirmed.v1"
    CONTACT_ERASED: Final = "ContactErased.v1"


class Role:
    ADMIN: Final = "admin"
    AGENT: Final = "agent"
    MARKETER: Final = "marketer"
    ALL: Final = (ADMIN, AGENT, MARKETER)


class Scope:
    """OAuth scopes of machine clients (Cognito resource server `Scope.SERVER`, client credentials):
    a route names the ones it accepts beside its roles (ecrm.access)."""

    SERVER: Final = "ecrm"  # the resource server's identifier: tokens carry `ecrm/contacts.read`
    CONTACTS_READ: Final = "contacts.read"
    CONTACTS_WRITE: Final = "contacts.write"
    LOYALTY_READ: Final = "loyalty.read"
    LOYALTY_REDEEM: Final = "loyalty.redeem"
    ORDERS_WRITE: Final = "orders.write"
    CONTACTS_IMPORT: Final = "contacts.import"  # bulk CSV in, consent proof included: a migration's
    CONTACTS_EXPORT: Final = "contacts.export"  # bulk CSV out: a warehouse's
    ALL: Final = (
        CONTACTS_READ,
        CONTACTS_WRITE,
        LOYALTY_READ,
        LOYALTY_REDEEM,
        ORDERS_WRITE,
        CONTACTS_IMPORT,
        CONTACTS_EXPORT,
    )

    @staticmethod
    def full(scope: str) -> str:
        """The scope as Cognito writes it in a token and API Gateway matches it: `ecrm/orders.write`."""
        return f"{Scope.SERVER}/{scope}"
