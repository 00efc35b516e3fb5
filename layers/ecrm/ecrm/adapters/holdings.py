"""Every item of one partition as the complete GDPR export shows it (ecrm.personal_data): what each
capability's `adapters/dynamo_personal_data.py` reads most of its part with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ecrm.adapters import dynamo
from ecrm.personal_data import Holding, holding, section_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def partition(
    client: DynamoDBClient, table: str, pk: str, sections: Sequence[tuple[str, str]], documents: Iterable[str] = ()
) -> list[Holding]:
    """Query `pk = :pk` (every page): each item a holding in the section its sort key names."""
    items = dynamo.query_all(
        client, TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )
    kept = tuple(documents)
    return [holding(section_of(item["sk"], sections), item, documents=kept) for item in items]
