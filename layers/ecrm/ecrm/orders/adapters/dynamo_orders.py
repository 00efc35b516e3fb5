"""The Orders table: one acceptance per order and per refund, holding no body and no personal data.

    pk              sk                  what
    ORDER#<id>      order               the order's acceptance: `digest` of its event, `accepted_at`,
                                        `published_at` once on the bus; TTL RETENTION
    ORDER#<id>      REFUND#<refund id>  a refund's acceptance, the same attributes

The order's items sit under its id, so a look at an order's history is one Query.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ecrm.adapters import dynamo
from ecrm.errors import Conflict
from ecrm.orders.ports import Acceptance, AcceptanceKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# How long a repeat of a request is recognised: a shop retries within minutes or days, not months.
# After it, the same order posted again is accepted and published again, and its consumers, which
# keep their own record of every order, apply nothing twice (decision 86).
RETENTION = timedelta(days=90)


def _key(key: AcceptanceKey) -> dynamo.Item:
    return dynamo.key(f"ORDER#{key.order_id}", f"REFUND#{key.refund_id}" if key.refund_id else "order")


class DynamoAcceptances:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def accept(self, key: AcceptanceKey, digest: str, now: datetime) -> Acceptance:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=_key(key),
                UpdateExpression=(
                    "SET digest = if_not_exists(digest, :d), accepted_at = if_not_exists(accepted_at, :t), "
                    "expires_at = if_not_exists(expires_at, :x)"
                ),
                ConditionExpression="attribute_not_exists(pk) OR digest = :d",
                ExpressionAttributeValues=dynamo.values(
                    {":d": digest, ":t": now.isoformat(), ":x": int((now + RETENTION).timestamp())}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict("accepted before with a different body") from None
            raise
        stored = dynamo.plain(answer["Attributes"])
        return Acceptance(accepted_at=datetime.fromisoformat(stored["accepted_at"]), published="published_at" in stored)

    def mark_published(self, key: AcceptanceKey, digest: str, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(key),
            UpdateExpression="SET published_at = if_not_exists(published_at, :t)",
            ConditionExpression="digest = :d",
            ExpressionAttributeValues=dynamo.values({":d": digest, ":t": now.isoformat()}),
        )
