"""Composition roots of the contacts functions: settings in, wired services out.

boto3 is imported here, not in the domain; clients are made when a service is first built (the
first invocation), so moto and the local stack can point them elsewhere before that. The mail
parts (the SES adapter, which loads the e-mail package) are imported by the one builder using them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.adapters.secrets import SecretSigner
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.contacts.service import CaptureService, ContactDirectory
from ecrm.contacts.settings import CaptureSettings, ConsentMailerSettings, ContactsApiSettings
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from boto3.session import Session

    from ecrm.contacts.consent_mail import ConfirmationMailer


def _writer(session: Session, settings: ContactsApiSettings) -> DynamoContacts:
    return DynamoContacts(
        session.client("dynamodb"),
        settings.table_name,
        Outbox(settings.outbox_table),
        phone_country=settings.phone_country_code,
    )


def capture_service(settings: CaptureSettings) -> CaptureService:
    session = boto3.session.Session()
    return CaptureService(
        repo=_writer(session, settings),
        clock=SYSTEM_CLOCK,
        signer=SecretSigner.from_secret(session, settings.signing_secret_id),
        consent_text_version=settings.consent_text_version,
    )


def contact_directory(settings: ContactsApiSettings) -> ContactDirectory:
    session = boto3.session.Session()
    return ContactDirectory(
        repo=_writer(session, settings), clock=SYSTEM_CLOCK, phone_country=settings.phone_country_code
    )


def confirmation_mailer(settings: ConsentMailerSettings) -> ConfirmationMailer:
    from ecrm.adapters.ses import SesMailer
    from ecrm.contacts.consent_mail import ConfirmationMailer

    session = boto3.session.Session()
    return ConfirmationMailer(
        repo=DynamoContacts(session.client("dynamodb"), settings.table_name),
        mailer=SesMailer(on_first_use(session, "sesv2"), settings.sender, settings.configuration_set),
        signer=SecretSigner.from_secret(session, settings.signing_secret_id),
        clock=SYSTEM_CLOCK,
        confirm_url=settings.confirm_url,
        ttl=timedelta(hours=settings.token_ttl_hours),
    )
