"""What the Contact360 table holds about one contact, for the complete GDPR export: their timeline
(ids and numbers of what happened) and, once erased, its tombstone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo
from ecrm.contact360.adapters.dynamo_timeline import ENTRY, ERASED, timeline_pk
from ecrm.personal_data import Holding, Subject, holding, section_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = ((ENTRY, "timeline"), (ERASED, "erasure"))


class Contact360PersonalData:
    capability = "contact360"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": timeline_pk(subject.contact_id)}},
        )
        return [holding(section_of(item["sk"], SECTIONS), item, documents=("entry",)) for item in items]
