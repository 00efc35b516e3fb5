"""What the Contact360 table holds about one contact, for the complete GDPR export: their timeline
(ids and numbers of what happened) and, once erased, its tombstone; their company link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrm.adapters import dynamo, holdings
from ecrm.contact360.adapters.dynamo_companies import COMPANY, company_pk, link_pk, member_sk
from ecrm.contact360.adapters.dynamo_timeline import ENTRY, ERASED, timeline_pk
from ecrm.personal_data import Holding, Subject, holding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = ((ENTRY, "timeline"), (ERASED, "erasure"))


class Contact360PersonalData:
    capability = "contact360"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        held = holdings.partition(self._db, self._table, timeline_pk(subject.contact_id), SECTIONS, ("entry",))
        link = self._get(link_pk(subject.contact_id), COMPANY)
        if link is not None:  # their company, and their place in its list of contacts
            held.append(holding("company", link))
            member = self._get(company_pk(link["company_id"]), member_sk(subject.contact_id))
            if member is not None:
                held.append(holding("company", member))
        return held

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return dynamo.get_plain(self._db, self._table, pk, sk)
