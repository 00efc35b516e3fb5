"""Timelines in the Contact360 table: `TIMELINE#<contact>` / `ENTRY#<at, fixed width>#<event digest>`
(the entry as JSON, its kind, `expires_at` for TTL), and `TIMELINE#<contact>` / `ERASED` once the
contact is erased. The digest of the event makes a redelivered event the same item; the erasure
tombstone, checked in the same transaction as every entry, keeps late events out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.adapters import dynamo
from ecrm.contact360.models import TimelineEntry, TimelinePage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENTRY = "ENTRY#"
ERASED = "ERASED"


def timeline_pk(contact_id: str) -> str:
    return f"TIMELINE#{contact_id}"


def entry_sk(entry: TimelineEntry) -> str:
    event = json.dumps([entry.source, entry.detail_type, entry.detail], sort_keys=True, default=str)
    at = entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{ENTRY}{at}#{hashlib.sha256(event.encode()).hexdigest()[:20]}"


class DynamoTimeline:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add(self, contact_id: str, entry: TimelineEntry, keep_until: datetime) -> bool:
        pk = timeline_pk(contact_id)
        item = {
            "pk": pk,
            "sk": entry_sk(entry),
            "kind": entry.kind,
            "entry": entry.model_dump_json(),
            "expires_at": int(keep_until.timestamp()),
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": dynamo.key(pk, ERASED),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": dynamo.item(item)}},
                ]
            )
        except ClientError as exc:
            if dynamo.cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def page(self, contact_id: str, kinds: Sequence[str], limit: int, cursor: str | None) -> TimelinePage:
        pk = timeline_pk(contact_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :entry)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":entry": {"S": ENTRY}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if kinds:  # a filter reads past entries of other kinds: pages may take a few requests
            names = {f":k{i}": {"S": kind} for i, kind in enumerate(kinds)}
            query["FilterExpression"] = f"kind IN ({', '.join(names)})"
            query["ExpressionAttributeValues"].update(names)
        if cursor:
            query["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"pk": pk}, prefix=("sk", ENTRY))
        found: list[dict[str, Any]] = []
        while True:
            answer = self._db.query(**query)
            found += answer.get("Items", [])
            last = answer.get("LastEvaluatedKey")
            if len(found) >= limit or last is None:
                break
            query["ExclusiveStartKey"] = last
        more = len(found) > limit or last is not None
        found = found[:limit]
        items = [TimelineEntry.model_validate_json(i["entry"]["S"]) for i in found]
        # The cursor is the last entry answered: the next page starts after it, whatever came since.
        next_cursor = dynamo.encode_cursor({"pk": found[-1]["pk"], "sk": found[-1]["sk"]}) if more and found else None
        return TimelinePage(items=items, next_cursor=next_cursor)

    def erase(self, contact_id: str, at: datetime) -> int:
        pk = timeline_pk(contact_id)
        tombstone = {"pk": pk, "sk": ERASED, "erased_at": at.astimezone(UTC).isoformat()}
        self._db.put_item(TableName=self._table, Item=dynamo.item(tombstone))
        entries = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :entry)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":entry": {"S": ENTRY}},
            ProjectionExpression="pk, sk",
        )
        keys = [dynamo.key(e["pk"], e["sk"]) for e in entries]
        dynamo.batch_delete(self._db, self._table, keys)
        return len(keys)
