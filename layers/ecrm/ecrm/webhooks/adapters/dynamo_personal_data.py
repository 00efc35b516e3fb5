"""What the Webhooks table holds about one contact, for the complete GDPR export: the deliveries
whose payload named them (found through gsi1, `CONTACT#<id>`), with their attempts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo
from ecrm.personal_data import Holding, Subject, holding
from ecrm.webhooks.adapters.dynamo_webhooks import contact_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class WebhooksPersonalData:
    capability = "webhooks"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": contact_key(subject.contact_id)}},
        )
        return [holding("deliveries", item, documents=("payload",)) for item in items]
