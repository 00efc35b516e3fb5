"""Low-level DynamoDB helpers the table adapters share: item (de)serialization, conditional-write
outcomes, transactions retried on conflicts, batched reads and writes that finish their unprocessed
keys, and opaque cursors that only continue the listing they came from."""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ecrm.errors import InvalidInput

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25
TRANSACTION_MAX = 100
_ATTEMPTS = 6

_ser = TypeSerializer()
_de = TypeDeserializer()


def item(values: Mapping[str, Any]) -> Item:
    """Plain values -> DynamoDB attribute values; None is left out (DynamoDB has no use for it)."""
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def plain(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _numbers(_de.deserialize(v)) for k, v in raw.items()}


def _numbers(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: as int or float again, also inside maps and lists,
    so free-form maps (a history line's before/after) keep their JSON types."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get_plain(client: DynamoDBClient, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    """One item by key, strongly consistent, as plain values; None when there is none."""
    found = client.get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True).get("Item")
    return plain(found) if found else None


def value(v: Any) -> Any:
    return _ser.serialize(v)


def values(mapping: Mapping[str, Any]) -> Item:
    """ExpressionAttributeValues from plain values."""
    return {name: _ser.serialize(v) for name, v in mapping.items()}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction ("None" for items that were fine)."""
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]


def condition_failed(exc: ClientError) -> bool:
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return True
    return code == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(exc)


def lost_race(exc: ClientError) -> bool:
    """A condition failed, or another transaction was writing the same item at that moment."""
    code = error_code(exc)
    if code == "TransactionConflictException":
        return True
    return condition_failed(exc) or (
        code == "TransactionCanceledException" and "TransactionConflict" in cancellation_codes(exc)
    )


def _conflicted(exc: ClientError) -> bool:
    """Another transaction touched one of the items at the same moment: safe to run again."""
    code = error_code(exc)
    if code in ("TransactionConflictException", "TransactionInProgressException"):
        return True
    reasons = cancellation_codes(exc)
    return (
        code == "TransactionCanceledException"
        and "TransactionConflict" in reasons
        and ("ConditionalCheckFailed" not in reasons)
    )


def _pause(attempt: int, sleep: Callable[[float], None]) -> None:
    sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not secrets


def transact(client: DynamoDBClient, items: Sequence[Item], sleep: Callable[[float], None] = time.sleep) -> None:
    """TransactWriteItems, run again when it only lost a race with another transaction (the hot
    items here are per-campaign counters): a condition that failed is raised to the caller."""
    if len(items) > TRANSACTION_MAX:
        raise ValueError(f"a transaction takes at most {TRANSACTION_MAX} items, not {len(items)}")
    for attempt in range(_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=list(items))  # type: ignore[arg-type]
            return
        except ClientError as exc:
            if not _conflicted(exc) or attempt == _ATTEMPTS - 1:
                raise
            _pause(attempt, sleep)


def batch_get(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Item],
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Every item that exists among `keys` (plain values), 100 keys per call, unprocessed keys
    asked for again with backoff."""
    return [plain(i) for i in batch_get_raw(client, table, keys, consistent, sleep)]


def batch_get_raw(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Item],
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Item]:
    """As batch_get, items left in DynamoDB's JSON."""
    found: list[Item] = []
    unique = list({json.dumps(k, sort_keys=True): k for k in keys}.values())
    for start in range(0, len(unique), BATCH_GET_MAX):
        request: dict[str, Any] = {table: {"Keys": unique[start : start + BATCH_GET_MAX], "ConsistentRead": consistent}}
        attempt = 0
        while request:
            answer = client.batch_get_item(RequestItems=request)
            found += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
            if request:
                _pause(attempt, sleep)
                attempt += 1
    return found


def batch_write(
    client: DynamoDBClient, table: str, requests: Sequence[Item], sleep: Callable[[float], None] = time.sleep
) -> None:
    """BatchWriteItem (PutRequest/DeleteRequest entries), 25 per call, unprocessed ones sent again."""
    for start in range(0, len(requests), BATCH_WRITE_MAX):
        pending: dict[str, Any] = {table: list(requests[start : start + BATCH_WRITE_MAX])}
        attempt = 0
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                _pause(attempt, sleep)
                attempt += 1


def batch_delete(
    client: DynamoDBClient, table: str, keys: Sequence[Item], sleep: Callable[[float], None] = time.sleep
) -> None:
    """Delete these items (keys as `key()` makes them), 25 per BatchWriteItem, unprocessed ones again."""
    batch_write(client, table, [{"DeleteRequest": {"Key": k}} for k in keys], sleep)


def query_all(client: DynamoDBClient, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query (plain values), page after page."""
    while True:
        page = client.query(**query)
        yield from (plain(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def encode_cursor(last_key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(
    cursor: str, expect: Mapping[str, str], prefix: tuple[str, str] | None = None, field: str = "cursor"
) -> Item:
    """The ExclusiveStartKey in `cursor`, checked to belong to the listing asked for (`expect`: the
    key values it must carry; `prefix`: (attribute, start) of a sort key), else InvalidInput naming
    `field`: a forged cursor is rejected, never queried."""
    try:
        last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput(field, "not a cursor this API returned") from exc
    if (
        not isinstance(last, dict)
        or any(last.get(name) != {"S": v} for name, v in expect.items())
        or not all(isinstance(v, dict) and set(v) == {"S"} for v in last.values())
        or (prefix and not str((last.get(prefix[0]) or {}).get("S", "")).startswith(prefix[1]))
    ):
        raise InvalidInput(field, "not a cursor this API returned")
    return last


# -- the mail log: one claim per mail, written before the provider is called -----------------------
# An open claim older than this is taken as a crashed sender's (its queue redelivers after a
# visibility timeout longer than this), so the redelivery may send; a younger one is a concurrent
# duplicate delivery and must not.
MAIL_CLAIM_LEASE = timedelta(minutes=2)


def claim_mail(client: DynamoDBClient, table: str, pk: str, mail_key: str, now: datetime) -> bool:
    """Record that mail `mail_key` (item `MAIL#<key>` in partition `pk`) is being sent; False if it
    was sent already or another sender holds a live claim."""
    claim = {"pk": pk, "sk": f"MAIL#{mail_key}", "status": "sending", "claimed_at": now.isoformat()}
    try:
        client.put_item(
            TableName=table,
            Item=item(claim),
            ConditionExpression="attribute_not_exists(pk) OR (#s = :sending AND claimed_at < :stale)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":sending": {"S": "sending"},
                ":stale": {"S": (now - MAIL_CLAIM_LEASE).isoformat()},
            },
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def mark_mail_failed(client: DynamoDBClient, table: str, pk: str, mail_key: str, reason: str, now: datetime) -> None:
    """Settle a claim whose mail can never be sent: `failed`, with its reason. A failed claim is
    never taken again (claim_mail only takes a missing or a stale `sending` one)."""
    client.update_item(
        TableName=table,
        Key=key(pk, f"MAIL#{mail_key}"),
        UpdateExpression="SET #s = :failed, reason = :r, failed_at = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":failed": {"S": "failed"},
            ":r": {"S": reason[:1000]},
            ":t": {"S": now.isoformat()},
        },
    )


def release_mail(client: DynamoDBClient, table: str, pk: str, mail_key: str, claimed_at: datetime) -> None:
    """Give up our own claim after a transient failure, so the redelivery may send at once. Only
    our claim (same claimed_at, still `sending`): a newer claimer's stays."""
    try:
        client.delete_item(
            TableName=table,
            Key=key(pk, f"MAIL#{mail_key}"),
            ConditionExpression="#s = :sending AND claimed_at = :at",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":sending": {"S": "sending"}, ":at": {"S": claimed_at.isoformat()}},
        )
    except ClientError as exc:
        if not condition_failed(exc):
            raise


def mark_mail_sent(client: DynamoDBClient, table: str, pk: str, mail_key: str, message_id: str, now: datetime) -> None:
    client.update_item(
        TableName=table,
        Key=key(pk, f"MAIL#{mail_key}"),
        UpdateExpression="SET #s = :sent, message_id = :m, sent_at = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sent": {"S": "sent"}, ":m": {"S": message_id}, ":t": {"S": now.isoformat()}},
    )


class PartitionMailLog:
    """ecrm.mail.MailLog on a table keyed pk/sk: each owner's claims (`MAIL#<key>`) in the
    partition `partition(owner_id)` names (a contact's, an endpoint's), so whatever deletes the
    owner's partition deletes their mail log with it."""

    def __init__(self, client: DynamoDBClient, table: str, partition: Callable[[str], str]) -> None:
        self._db = client
        self._table = table
        self._partition = partition

    def claim_mail(self, owner_id: str, key: str, now: datetime, /) -> bool:
        return claim_mail(self._db, self._table, self._partition(owner_id), key, now)

    def mark_mail_sent(self, owner_id: str, key: str, message_id: str, now: datetime, /) -> None:
        mark_mail_sent(self._db, self._table, self._partition(owner_id), key, message_id, now)

    def mark_mail_failed(self, owner_id: str, key: str, reason: str, now: datetime, /) -> None:
        mark_mail_failed(self._db, self._table, self._partition(owner_id), key, reason, now)

    def release_mail(self, owner_id: str, key: str, claimed_at: datetime, /) -> None:
        release_mail(self._db, self._table, self._partition(owner_id), key, claimed_at)
