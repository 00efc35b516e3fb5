"""What the Journeys table holds about one contact, for the complete GDPR export: their progress
in each journey and their journey mails' claims, all in their own partition (`C#<id>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo
from ecrm.journeys.adapters.dynamo_journeys import contact_pk
from ecrm.personal_data import Holding, Subject, holding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class JourneysPersonalData:
    capability = "journeys"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": contact_pk(subject.contact_id)}},
        )
        found = []
        for item in items:
            mail = str(item["sk"]).startswith("MAIL#")
            found.append(holding("mails" if mail else "progress", item, documents=() if mail else ("doc",)))
        return found
