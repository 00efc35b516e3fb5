"""What the Journeys table holds about one contact, for the complete GDPR export: their progress
in each journey and their journey mails' claims, all in their own partition (`C#<id>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import holdings
from ecrm.journeys.adapters.dynamo_journeys import contact_pk
from ecrm.personal_data import Holding, Subject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (("J#", "progress"), ("MAIL#", "mails"))


class JourneysPersonalData:
    capability = "journeys"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        return holdings.partition(self._db, self._table, contact_pk(subject.contact_id), SECTIONS, ("doc",))
