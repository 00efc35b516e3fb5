"""Sending state in the Campaigns table: send records (the exactly-once guard, beside the contact),
the shared rate slots, the suppression list and the SES event log. Every transition that changes a
count updates the campaign's stats shard in the same transaction (docs/campaigns.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.adapters.dynamo import Item
from ecrm.campaigns.adapters.dynamo_campaigns import shard_of, stats_update
from ecrm.campaigns.models import SendKey, SendRecord, Suppression, address_key
from ecrm.campaigns.ports import Engagement, SlotTake
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RATE_SLOT_TTL = timedelta(minutes=1)
SES_EVENT_TTL = timedelta(days=4)
_SETTLED_COUNTER = {"skipped": "suppressed", "failed": "failed", "unknown": "unknown"}
_CLAIM = frozenset({"claimed_at", "lease_until"})  # the sender's bookkeeping, not the mail's life
_FIELDS = ("status", "claim_id", "claimed_at", "lease_until", "message_id", "variant", "reason", "settled_at")
_ENGAGEMENTS: tuple[Engagement, ...] = (
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "soft_bounced",
    "complained",
    "unsubscribed",
)


def _returned(exc: ClientError) -> Item | None:
    """The item a failed condition found (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    found: Item | None = cast(dict[str, Any], exc.response).get("Item")
    return found


def send_key(key: SendKey) -> Item:
    return dynamo.key(f"CONTACT#{key.contact_id}", f"MAIL#campaign#{key.campaign_id}#{key.run_id}")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _record_item(record: SendRecord) -> Item:
    k = record.key
    return {
        **send_key(k),
        **dynamo.item(
            {
                "campaign_id": k.campaign_id,
                "run_id": k.run_id,
                "contact_id": k.contact_id,
                "status": record.status,
                "claim_id": record.claim_id,
                "claimed_at": _iso(record.claimed_at),
                "lease_until": _iso(record.lease_until),
                "message_id": record.message_id,
                "variant": record.variant,
                "reason": record.reason,
                "settled_at": _iso(record.settled_at),
            }
        ),
    }


def _record(stored: dict[str, Any]) -> SendRecord:
    key = SendKey(campaign_id=stored["campaign_id"], run_id=stored["run_id"], contact_id=stored["contact_id"])
    return SendRecord.model_validate({"key": key, **{f: stored.get(f) for f in _FIELDS}})


class DynamoSendRecords:
    """`CONTACT#<contact>` / `MAIL#campaign#<campaign>#<run>`."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def of_contact(self, contact_id: str) -> list[dict[str, Any]]:
        """Every campaign mail of one contact: its record's ids, status and times, and when it was
        delivered, opened, clicked, bounced or complained about (the contact 360's related records)."""
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :mail)",
            ExpressionAttributeValues={":pk": {"S": f"CONTACT#{contact_id}"}, ":mail": {"S": "MAIL#campaign#"}},
        )
        shown = ("campaign_id", "run_id", "status", "variant", "settled_at")
        return [{k: v for k, v in i.items() if k in shown or (k.endswith("_at") and k not in _CLAIM)} for i in items]

    def existing(self, keys: Sequence[SendKey]) -> dict[SendKey, SendRecord]:
        found = dynamo.batch_get(self._db, self._table, [send_key(k) for k in keys])
        records = (_record(i) for i in found)
        return {r.key: r for r in records}

    def _get(self, key: SendKey) -> SendRecord | None:
        found = self._db.get_item(TableName=self._table, Key=send_key(key), ConsistentRead=True).get("Item")
        return _record(dynamo.plain(found)) if found else None

    def claim(self, record: SendRecord, count_targeted: bool = False) -> SendRecord | None:
        if count_targeted and self._create_counted(record, {"targeted": 1}):
            return None
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_record_item(record),
                ConditionExpression="attribute_not_exists(pk) OR #s = :skipped",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamo.values({":skipped": "skipped"}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
            old = _returned(exc)
            return _record(dynamo.plain(old)) if old else self._get(record.key)
        return None

    def complete(self, claim: SendRecord, message_id: str, now: datetime) -> None:
        if self._to_sent(claim, "sending", message_id, now):
            return
        current = self._get(claim.key)  # rare: settled `unknown` by a redelivery in the meantime
        if current is not None and current.claim_id == claim.claim_id and current.status == "unknown":
            self._to_sent(current, "unknown", message_id, now)

    def confirm(self, key: SendKey, message_id: str, now: datetime) -> bool:
        for _ in range(3):
            current = self._get(key)
            if current is None or current.status not in ("sending", "unknown"):
                return False
            if self._to_sent(current, current.status, message_id, now):
                return True
        return False

    def _to_sent(self, record: SendRecord, found: str, message_id: str, now: datetime) -> bool:
        """`found` (of this claim) -> sent, +1 sent (-1 unknown); False if the record moved on."""
        changes = {"sent": 1, **({"unknown": -1} if found == "unknown" else {})}
        condition = "#s = :found" + (" AND claim_id = :c" if record.claim_id else "")
        update: Item = {
            "Update": {
                "TableName": self._table,
                "Key": send_key(record.key),
                "UpdateExpression": "SET #s = :sent, message_id = :m, settled_at = :t",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": dynamo.values(
                    {":sent": "sent", ":m": message_id, ":t": now.isoformat(), ":found": found}
                    | ({":c": record.claim_id} if record.claim_id else {})
                ),
            }
        }
        return self._counted(update, record.key, changes, record.variant)

    def release(self, key: SendKey, claim_id: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=send_key(key),
                ConditionExpression="#s = :sending AND claim_id = :c",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamo.values({":sending": "sending", ":c": claim_id}),
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def settle(self, record: SendRecord, count_targeted: bool = False) -> bool:
        counter = _SETTLED_COUNTER[record.status]
        if count_targeted and self._create_counted(record, {counter: 1, "targeted": 1}):
            return True
        condition = "attribute_not_exists(pk)"
        vals: dict[str, Any] = {}
        if record.claim_id:
            condition += " OR (#s = :sending AND claim_id = :c)"
            vals = {":sending": "sending", ":c": record.claim_id}
        put: dict[str, Any] = {"TableName": self._table, "Item": _record_item(record), "ConditionExpression": condition}
        if vals:
            put["ExpressionAttributeNames"] = {"#s": "status"}
            put["ExpressionAttributeValues"] = dynamo.values(vals)
        return self._counted({"Put": put}, record.key, {counter: 1}, record.variant)

    def _create_counted(self, record: SendRecord, changes: dict[str, int]) -> bool:
        """Create the record if none exists, with `changes` counted in the same transaction; False
        (nothing written) if one exists: the caller then takes its usual path."""
        put = {
            "TableName": self._table,
            "Item": _record_item(record),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        return self._counted({"Put": put}, record.key, changes, record.variant)

    def mark(self, key: SendKey, engagement: Engagement, at: datetime) -> bool:
        if engagement not in _ENGAGEMENTS:
            raise ValueError(f"not an engagement: {engagement}")
        current = self._get(key)
        if current is None:
            return False  # an erased contact's mail, or mail we never sent: nothing to count
        update: Item = {
            "Update": {
                "TableName": self._table,
                "Key": send_key(key),
                "UpdateExpression": "SET #e = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#e)",
                "ExpressionAttributeNames": {"#e": f"{engagement}_at"},
                "ExpressionAttributeValues": dynamo.values({":at": at.isoformat()}),
            }
        }
        return self._counted(update, key, {engagement: 1}, current.variant)

    def _counted(self, item: Item, key: SendKey, changes: dict[str, int], variant: int | None) -> bool:
        """The record's write and its counters in one transaction; False if the condition failed."""
        stats = stats_update(self._table, key.campaign_id, shard_of(key.contact_id), changes, variant)
        try:
            dynamo.transact(self._db, [item, stats])
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True


class DynamoRateSlots:
    """`RATE#ses#<epoch second>` / `RATE`: a conditional ADD per take, gone a minute later (TTL)."""

    def __init__(self, client: DynamoDBClient, table: str, name: str = "ses") -> None:
        self._db = client
        self._table = table
        self._name = name

    def take(self, slot: int, count: int, limit: int) -> SlotTake:
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=dynamo.key(f"RATE#{self._name}#{slot}", "RATE"),
                UpdateExpression="ADD used :n SET expires_at = :ttl",
                ConditionExpression="attribute_not_exists(used) OR used <= :max",
                ExpressionAttributeValues=dynamo.values(
                    {":n": count, ":max": limit - count, ":ttl": slot + int(RATE_SLOT_TTL.total_seconds())}
                ),
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
            old = dynamo.plain(_returned(exc) or {})
            return SlotTake(False, int(old.get("used", limit)))
        return SlotTake(True, int(dynamo.plain(answer.get("Attributes", {})).get("used", count)))


class DynamoSuppressions:
    """`SUPPRESS#<sha256 of the normalized address>` / `SUPPRESS`: no address in clear."""

    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        self._db = client
        self._table = table
        self._outbox = outbox

    @staticmethod
    def key_of(email: str) -> Item:
        return dynamo.key(f"SUPPRESS#{address_key(email)}", "SUPPRESS")

    @staticmethod
    def entry(stored: dict[str, Any]) -> Suppression:
        return Suppression.model_validate({k: stored.get(k) for k in ("address_key", "reason", "at", "contact_id")})

    def get(self, email: str) -> Suppression | None:
        found = self._db.get_item(TableName=self._table, Key=self.key_of(email), ConsistentRead=True).get("Item")
        return self.entry(dynamo.plain(found)) if found else None

    def add(self, email: str, suppression: Suppression, events: Sequence[DomainEvent] = ()) -> bool:
        # A complaint replaces a bounce (it is the stronger signal); nothing replaces a complaint.
        condition = "attribute_not_exists(pk)"
        vals: dict[str, Any] = {}
        if suppression.reason == "complained":
            condition += " OR reason = :bounced"
            vals = {":bounced": "bounced"}
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                **self.key_of(email),
                **dynamo.item(
                    {
                        "address_key": suppression.address_key,
                        "reason": suppression.reason,
                        "at": suppression.at.isoformat(),
                        "contact_id": suppression.contact_id,
                    }
                ),
            },
            "ConditionExpression": condition,
        }
        if vals:
            put["ExpressionAttributeValues"] = dynamo.values(vals)
        try:
            if events:
                dynamo.transact(self._db, [{"Put": put}, *outbox.puts(self._outbox, events, "the suppression list")])
            else:
                self._db.put_item(**put)
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True


class DynamoFeedbackLog:
    """`SESEVENT#<event id>` / `SESEVENT`, expiring after a few days."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def seen(self, event_id: str) -> bool:
        key = dynamo.key(f"SESEVENT#{event_id}", "SESEVENT")
        return "Item" in self._db.get_item(TableName=self._table, Key=key)

    def record(self, event_id: str, now: datetime) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                **dynamo.key(f"SESEVENT#{event_id}", "SESEVENT"),
                "expires_at": {"N": str(int((now + SES_EVENT_TTL).timestamp()))},
            },
        )
