"""What the Contacts table holds about one contact, for the complete GDPR export: every item of the
contact's partition (profile, tags, consent history, mail log, search index, the erasure tombstone)
and the e-mail reference item that makes the address unique."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrm.adapters import dynamo, holdings
from ecrm.contacts.adapters.dynamo_contacts import ERASED, PROFILE, contact_pk, email_pk
from ecrm.personal_data import Holding, Subject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (
    (PROFILE, "profile"),
    ("TAG#", "tags"),
    ("CONSENT#", "consent_history"),
    ("MAIL#", "mail_log"),
    ("SEARCH#", "search_index"),
    (ERASED, "erasure"),
)


class ContactsPersonalData:
    capability = "contacts"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def subject(self, contact_id: str) -> Subject | None:
        """The contact, with its address while the profile exists and without once erased (the
        tombstone); None when no contact ever had the id."""
        profile = self._get(contact_pk(contact_id), PROFILE)
        if profile is not None:
            return Subject(contact_id, str(profile["contact"]["email"]))
        return Subject(contact_id) if self._get(contact_pk(contact_id), ERASED) is not None else None

    def holdings(self, subject: Subject) -> list[Holding]:
        held = holdings.partition(self._db, self._table, contact_pk(subject.contact_id), SECTIONS)
        reference = self._get(email_pk(subject.email), "EMAIL") if subject.email else None
        if reference is not None:  # a copy of the profile, kept so a capture finds it in one read
            record = {"email": subject.email, "contact_id": reference["contact_id"]}
            held.append(Holding("email_reference", record, (reference["pk"], reference["sk"])))
        return held

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return dynamo.get_plain(self._db, self._table, pk, sk)
