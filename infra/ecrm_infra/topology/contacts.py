"""Contact capture: public form capture and consent, the role-protected directory, the opt-in mailer."""

from __future__ import annotations

from ecrm import access
from ecrm.contacts import settings
from ecrm.contacts.names import Env, Resource
from ecrm.names import DetailType, Source

from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import (
    Access,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Table,
)

# The mail log (ecrm.mail.send_once) in a table: claim (Put), settle (Update), release after a
# transient failure (a conditional Delete), beside reading the owner (the contact, the case).
MAIL_LOG = Access.READ | Access.PUT | Access.UPDATE | Access.DELETE
# Writers commit their events to the Outbox with the write; the relay puts them on the bus.
# Both write profiles, and so the search index, whose phone numbers need the default calling code.
TABLE_AND_OUTBOX = {
    Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
    **OUTBOX_ENV,
    Env.PHONE_COUNTRY_CODE: "context:defaultPhoneCountryCode",
}

CONTACTS = Capability(
    name="Contacts",
    tables=(Table(Resource.CONTACTS_TABLE, indexes=("gsi1",)),),
    functions=(
        Function(
            name="contacts_capture",
            description="Public web-form capture of contacts and double opt-in confirmation",
            settings=settings.CaptureSettings,
            env={
                **TABLE_AND_OUTBOX,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.THANK_YOU_URL: "context:thankYouUrl",
                Env.ALLOWED_ORIGINS: "context:allowedOrigins",
                Env.CONSENT_TEXT_VERSION: "context:consentTextVersion",
            },
            grants={
                # Looks the address up, then creates the contact or puts its merged profile back
                # (consent records, new tags and search index items are new items; a confirmed or
                # merged profile never loses a field, so never deletes an index item): never
                # deletes, updates or lists.
                Resource.CONTACTS_TABLE: Access.READ | Access.PUT,
                **OUTBOX_GRANT,
                Resource.SIGNING_SECRET: Access.READ,
            },
            routes=access.CONTACTS_CAPTURE,
        ),
        Function(
            name="contacts_api",
            description="Role-protected contact lookup, search, update, GDPR export and erasure",
            settings=settings.ContactsApiSettings,
            env=dict(TABLE_AND_OUTBOX),
            grants={
                # Lists by tag and searches (Query on gsi1); an edit deletes the tags it removes and
                # the search index items of fields it clears; erasure deletes the contact's items.
                Resource.CONTACTS_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.DELETE | Access.BATCH_WRITE,
                **OUTBOX_GRANT,
            },
            routes=access.CONTACTS_API,
        ),
        Function(
            name="consent_mailer",
            description="Sends the double opt-in confirmation mail, once per consent request",
            settings=settings.ConsentMailerSettings,
            env={
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
                Env.CONFIRM_URL: "context:confirmPageUrl",
                Env.CONFIRM_TTL_HOURS: "context:confirmTokenTtlHours",
            },
            grants={
                Resource.CONTACTS_TABLE: MAIL_LOG,
                Resource.SIGNING_SECRET: Access.READ,
                Resource.MAIL: Access.SEND_MAIL,
            },
            queue=QueueTrigger(
                queue=Resource.CONSENT_MAIL_QUEUE,
                rule=EventRule(
                    sources=(Source.CONTACTS,),
                    detail_types=(DetailType.CONTACT_CAPTURED, DetailType.CONTACT_UPDATED),
                    detail_filter={"consent_requested": [True]},
                ),
            ),
            timeout_seconds=20,
        ),
    ),
    context_defaults={
        "thankYouUrl": "http://localhost:3000/_local/thanks",
        "allowedOrigins": "http://localhost:3000,http://127.0.0.1:3000",
        "consentTextVersion": "marketing-2026-11",
        "confirmPageUrl": "http://localhost:3000/contacts/confirm",
        "confirmTokenTtlHours": "72",
        "defaultPhoneCountryCode": "49",
    },
    alarms=(
        # Emitted by ecrm.mail.send_once for consent, case and loyalty mail alike (one metric, one
        # alarm): a mail that can never be sent, its claim settled `failed` with the reason.
        MetricAlarm("MailFailed", 0, "a consent, case or loyalty mail could not be sent: see its MAIL# claim's reason"),
    ),
)
