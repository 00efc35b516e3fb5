"""The loyalty ledger and the programme in DynamoDB (the Loyalty table; key design in docs/loyalty.md).

Every `LedgerWrite` is ONE TransactWriteItems: the entries (each once per business key), the order
record (version-guarded) and the member item (ADD-only numbers, guarded), all or nothing. Its
cancellation reasons become the domain's errors in one place (`_cancellation`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.errors import Conflict, InvalidInput, Unavailable
from ecrm.loyalty.models import LedgerEntry
from ecrm.loyalty.ports import (
    AlreadyApplied,
    LedgerWrite,
    MemberChange,
    MemberChanged,
    MemberGuard,
    OrderChange,
    OrderChanged,
)
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.state import MemberState, OrderRecord
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MEMBER = "MEMBER"
ORDER = "ORDER"
HISTORY_INDEX = "gsi1"
LOT = "lot:"  # member attributes `lot:<YYYY-MM>`: points left per month earned
EARNED = "earned:"  # member attributes `earned:<YYYY-MM>`: the tier window's buckets
PROGRAMME = "PROGRAMME"
CURRENT = "CURRENT"
# Error codes after botocore's own retries: nothing was written, or the retry finds out what was.
TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
CONDITION_FAILED = "ConditionalCheckFailed"
CONFLICT = "TransactionConflict"
TRANSIENT_REASONS = frozenset({CONFLICT, "ProvisionedThroughputExceeded", "ThrottlingError", "RequestLimitExceeded"})

_ser = TypeSerializer()
_de = TypeDeserializer()


def member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def entry_sk(entry_id: str) -> str:
    return f"ENTRY#{entry_id}"


def instant(at: datetime) -> str:
    """A fixed-width UTC timestamp: history sort keys order by time as strings."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes; numbers (Decimal from DynamoDB) as the integers they always are."""
    plain = {k: _de.deserialize(v) for k, v in item.items()}
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in plain.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _member(member_id: str, item: dict[str, Any]) -> MemberState:
    plain = _plain(item)
    return MemberState(
        member_id=member_id,
        balance=plain.get("balance", 0),
        lots={k.removeprefix(LOT): v for k, v in plain.items() if k.startswith(LOT)},
        earned={k.removeprefix(EARNED): v for k, v in plain.items() if k.startswith(EARNED)},
        tier=plain.get("tier"),
        tier_version=plain.get("tier_version", 0),
    )


def _order(item: dict[str, Any]) -> OrderRecord:
    record = OrderRecord.model_validate_json(item["record"]["S"])
    return record.model_copy(update={"version": int(item["version"]["N"])})


def _entry(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry.model_validate_json(item["entry"]["S"])


class _Expression:
    """Placeholders for one expression: `#a0` per attribute name, `:v0` per value."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#a{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = _ser.serialize(value)
        return placeholder


def _update_expression(change: MemberChange, x: _Expression) -> str:
    adds = [f"balance {x.value(change.balance)}"]  # also when 0: the item then always has a balance
    adds += [f"{x.name(LOT + lot)} {x.value(n)}" for lot, n in sorted(change.lots.items()) if n]
    adds += [f"{x.name(EARNED + month)} {x.value(n)}" for month, n in sorted(change.earned.items()) if n]
    removes = [x.name(LOT + lot) for lot in change.remove_lots]
    removes += [x.name(EARNED + month) for month in change.remove_buckets]
    expression = "ADD " + ", ".join(adds)
    if change.tier is not None:
        expression += f", tier_version {x.value(1)} SET tier = {x.value(change.tier)}"
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression


def _equal_or_missing(name: str, value: int, x: _Expression) -> str:
    """`name = value`, a missing number counting as 0."""
    if value:
        return f"{name} = {x.value(value)}"
    return f"(attribute_not_exists({name}) OR {name} = {x.value(0)})"


def _guard_conditions(guard: MemberGuard, x: _Expression) -> list[str]:
    """MemberGuard as conditions on the item before the write; a missing number counts as 0."""
    conditions = []
    if guard.tier_version is not None:
        conditions.append(_equal_or_missing("tier_version", guard.tier_version, x))
    if guard.balance_at_least > 0:
        conditions.append(f"balance >= {x.value(guard.balance_at_least)}")
    conditions += [f"{x.name(LOT + lot)} >= {x.value(n)}" for lot, n in sorted(guard.lots_at_least.items()) if n > 0]
    conditions += [_equal_or_missing(x.name(LOT + lot), n, x) for lot, n in sorted(guard.lots_equal.items())]
    if guard.bucket_below is not None:
        month, limit = guard.bucket_below
        name, below = x.name(EARNED + month), x.value(limit)
        conditions.append(f"(attribute_not_exists({name}) OR {name} < {below})" if limit > 0 else f"{name} < {below}")
    return conditions


def _cancellation(exc: ClientError, entries: int, order_at: int | None, member_at: int | None) -> Exception:
    """Which part of the write stopped it, in the port's precedence: an entry (a duplicate), the
    order record, the member; else a conflict with a concurrent transaction or throttling."""
    reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons") or []  # type: ignore[assignment]
    codes = [r.get("Code") for r in reasons]
    failed = {i for i, code in enumerate(codes) if code == CONDITION_FAILED}
    if failed & set(range(entries)):
        return AlreadyApplied("an entry of this write is in the ledger already")
    if order_at in failed:
        old = reasons[order_at].get("Item")
        return OrderChanged(_order(old) if old else None)
    if member_at in failed:
        return MemberChanged("a member guard failed")
    # Another transaction was writing the same item: re-read and re-plan where the service can.
    if member_at is not None and member_at < len(codes) and codes[member_at] == CONFLICT:
        return MemberChanged("a concurrent transaction touched the member")
    if order_at is not None and order_at < len(codes) and codes[order_at] == CONFLICT:
        return OrderChanged(None)
    if TRANSIENT_REASONS & set(codes):
        return Unavailable(f"transaction cancelled: {codes}")
    return exc


def _mapped(exc: ClientError, entries: int, order_at: int | None, member_at: int | None) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        return _cancellation(exc, entries, order_at, member_at)
    if code in TRANSIENT:
        return Unavailable(code)
    return exc


class DynamoLedger:
    """LedgerRepository and PersonalDataStore over the Loyalty table."""

    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        self._db = client
        self._table = table
        self._outbox = outbox  # where writes commit their events (readers leave it out)

    @property
    def client(self) -> DynamoDBClient:
        return self._db

    # --- reads: strongly consistent, one GetItem each ---------------------------------------

    def get_member(self, member_id: str) -> MemberState | None:
        item = self._get(member_pk(member_id), MEMBER)
        return _member(member_id, item) if item else None

    def get_order(self, order_id: str) -> OrderRecord | None:
        item = self._get(order_pk(order_id), ORDER)
        return _order(item) if item else None

    def orders_of(self, member_id: str) -> list[OrderRecord]:
        """The orders a member earned on (their earn entries name them): the contact 360's totals."""
        ids = sorted({e.order_id for e in map(_entry, self._entries(member_id)) if e.kind == "earn" and e.order_id})
        keys = [_key(order_pk(order_id), ORDER) for order_id in ids]
        return [_order(item) for item in dynamo.batch_get_raw(self._db, self._table, keys, consistent=True)]

    def get_entry(self, member_id: str, entry_id: str) -> LedgerEntry | None:
        item = self._get(member_pk(member_id), entry_sk(entry_id))
        return _entry(item) if item else None

    def history(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Newest first from the GSI (eventually consistent: an entry shows within a moment)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": HISTORY_INDEX,
            "KeyConditionExpression": "gsi1pk = :m",
            "ExpressionAttributeValues": {":m": {"S": member_pk(member_id)}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = _decode_cursor(cursor, member_pk(member_id))
        page = self._db.query(**query)
        last = page.get("LastEvaluatedKey")
        return [_entry(i) for i in page.get("Items", [])], _encode_cursor(last) if last else None

    # --- the one write ----------------------------------------------------------------------

    def apply(self, write: LedgerWrite) -> None:
        items = [self._entry_put(entry) for entry in write.entries]
        order_at = member_at = None
        if write.order is not None:
            order_at = len(items)
            items.append(self._order_put(write.order))
        if write.member is not None and write.member_id is not None:
            member_at = len(items)
            items.append(self._member_update(write.member_id, write.member))
        items += outbox.puts(self._outbox, write.events, "the ledger")  # last: reasons above are read by position
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            mapped = _mapped(exc, len(write.entries), order_at, member_at)
            if mapped is exc:
                raise
            raise mapped from exc
        except (HTTPClientError, BotoConnectionError) as exc:
            # No answer: the write happened or not. A retry (the message again, the client's same
            # Idempotency-Key) finds out which, through the business keys.
            raise Unavailable(f"no answer from DynamoDB: {type(exc).__name__}") from exc

    def _entry_put(self, entry: LedgerEntry) -> dict[str, Any]:
        pk = member_pk(entry.member_id)
        item = {
            "pk": pk,
            "sk": entry_sk(entry.entry_id),
            "gsi1pk": pk,
            "gsi1sk": f"{instant(entry.at)}#{entry.entry_id}",
            "entry": entry.model_dump_json(exclude_none=True),
        }
        return {
            "Put": {"TableName": self._table, "Item": _item(item), "ConditionExpression": "attribute_not_exists(pk)"}
        }

    def _order_put(self, change: OrderChange) -> dict[str, Any]:
        record = change.record
        item = {
            "pk": order_pk(record.order_id),
            "sk": ORDER,
            "version": record.version,
            "record": record.model_dump_json(exclude={"version"}, exclude_none=True),
        }
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": _item(item),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if change.expected_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(change.expected_version)}}
        return {"Put": put}

    def _member_update(self, member_id: str, change: MemberChange) -> dict[str, Any]:
        x = _Expression()
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(member_pk(member_id), MEMBER),
            "UpdateExpression": _update_expression(change, x),
        }
        conditions = _guard_conditions(change.guard, x)
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        if x.names:
            update["ExpressionAttributeNames"] = x.names
        update["ExpressionAttributeValues"] = x.values
        return {"Update": update}

    # --- erasure ----------------------------------------------------------------------------

    def erase_personal_data(self, member_id: str, at: datetime) -> int:
        changed = 0
        for item in self._entries(member_id):
            entry = _entry(item)
            if entry.reason is None and entry.reference is None:
                continue
            scrubbed = entry.model_copy(update={"reason": None, "reference": None})
            self._db.update_item(
                TableName=self._table,
                Key=_key(item["pk"]["S"], item["sk"]["S"]),
                UpdateExpression="SET #e = :scrubbed",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#e": "entry"},
                ExpressionAttributeValues={":scrubbed": {"S": scrubbed.model_dump_json(exclude_none=True)}},
            )
            changed += 1
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_key(member_pk(member_id), MEMBER),
                UpdateExpression="SET erased_at = if_not_exists(erased_at, :t)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":t": {"S": instant(at)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return changed

    def _entries(self, member_id: str) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :entries)",
            "ExpressionAttributeValues": {":pk": {"S": member_pk(member_id)}, ":entries": {"S": "ENTRY#"}},
        }
        while True:
            page = self._db.query(**query)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._db.get_item(
            TableName=self._table, Key=_key(pk, sk), ConsistentRead=True
        ).get("Item")
        return item


class DynamoProgrammes:
    """ProgrammeRepository: `PROGRAMME/CURRENT` (read by every container, one GetItem per cache
    period) and `PROGRAMME/VERSION#<n>` (every version ever saved, for the record)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def current(self) -> StoredProgramme | None:
        item = self._db.get_item(TableName=self._table, Key=_key(PROGRAMME, CURRENT), ConsistentRead=True).get("Item")
        return StoredProgramme.model_validate_json(item["document"]["S"]) if item else None

    def save(self, stored: StoredProgramme, expected_version: int) -> None:
        document = {"version": stored.version, "document": stored.model_dump_json()}
        current: dict[str, Any] = {
            "TableName": self._table,
            "Item": _item({"pk": PROGRAMME, "sk": CURRENT, **document}),
        }
        if expected_version == 0:
            current["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            current["ConditionExpression"] = "version = :expected"
            current["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        history = {
            "TableName": self._table,
            "Item": _item({"pk": PROGRAMME, "sk": f"VERSION#{stored.version:09d}", **document}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            items: list[Any] = [{"Put": current}, {"Put": history}]
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise Conflict(f"the programme is no longer at version {expected_version}") from exc
            raise


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str, pk: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("cursor", "not a cursor this API returned") from exc
    # A cursor only continues the history it came from; anything else is rejected, not queried.
    if not isinstance(key, dict) or key.get("gsi1pk") != {"S": pk}:
        raise InvalidInput("cursor", "not a cursor this API returned")
    return key
