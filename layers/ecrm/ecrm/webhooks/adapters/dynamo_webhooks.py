"""The Webhooks table.

    pk                 sk                   what
    ENDPOINTS          ENDPOINT#<id>        an endpoint (JSON `doc` with its secrets, `version`)
    ENDPOINT#<id>      MSG#<message id>     a delivery: payload, status, attempts, log; TTL 30 days
                                            gsi1: CONTACT#<contact id> / <message id> when it names one;
                                            `answers_forgotten` once that contact was erased
    ENDPOINT#<id>      MAIL#disabled#<v>    the admins' mail about its disabling (ecrm.mail claim)
    RATE#<id>          <unix second>        attempts started in that second (TTL a minute later)

Message ids start with the event's time, so an endpoint's deliveries sort by time: the log pages
newest first, and a replay reads a time range. The signing secrets are stored with the endpoint,
encrypted at rest by the table's key like every other table (docs/decisions.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.adapters import dynamo
from ecrm.errors import Conflict
from ecrm.webhooks.models import AttemptRecord, Delivery, DeliveryPage, StoredEndpoint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENDPOINTS = "ENDPOINTS"
FORGOTTEN = "answers_forgotten"  # the delivery names an erased contact: receivers' answers are not kept
_FORGET_ATTEMPTS = 5
MSG = "MSG#"


def endpoint_sk(endpoint_id: str) -> str:
    return f"ENDPOINT#{endpoint_id}"


def deliveries_pk(endpoint_id: str) -> str:
    return f"ENDPOINT#{endpoint_id}"


def contact_key(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class DynamoEndpoints:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def create(self, endpoint: StoredEndpoint) -> None:
        self._db.put_item(
            TableName=self._table,
            Item=dynamo.item(self._item(endpoint)),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, endpoint_id: str) -> StoredEndpoint | None:
        found = dynamo.get_plain(self._db, self._table, ENDPOINTS, endpoint_sk(endpoint_id))
        return StoredEndpoint.model_validate_json(found["doc"]) if found else None

    def all(self) -> list[StoredEndpoint]:
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": ENDPOINTS}},
            ConsistentRead=True,
        )
        return [StoredEndpoint.model_validate_json(i["doc"]) for i in items]

    def save(self, endpoint: StoredEndpoint, expected_version: int) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=dynamo.item(self._item(endpoint)),
                ConditionExpression="version = :v",
                ExpressionAttributeValues=dynamo.values({":v": expected_version}),
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict("the endpoint changed (or went) meanwhile: read it again") from exc
            raise

    def delete(self, endpoint_id: str) -> bool:
        answer = self._db.delete_item(
            TableName=self._table, Key=dynamo.key(ENDPOINTS, endpoint_sk(endpoint_id)), ReturnValues="ALL_OLD"
        )
        return "Attributes" in answer

    @staticmethod
    def _item(endpoint: StoredEndpoint) -> dict[str, Any]:
        return {
            "pk": ENDPOINTS,
            "sk": endpoint_sk(endpoint.id),
            "doc": endpoint.model_dump_json(),
            "version": endpoint.version,
        }


class DynamoDeliveries:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def add(self, delivery: Delivery, contact_id: str | None, keep_until: datetime) -> bool:
        item: dict[str, Any] = {
            "pk": deliveries_pk(delivery.endpoint_id),
            "sk": MSG + delivery.message_id,
            **delivery.model_dump(mode="json", exclude={"log", "next_attempt_at"}),
            "log": [],
            "expires_at": int(keep_until.timestamp()),
        }
        if contact_id:
            item |= {"contact_id": contact_id, "gsi1pk": contact_key(contact_id), "gsi1sk": delivery.message_id}
        try:
            self._db.put_item(
                TableName=self._table, Item=dynamo.item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def get(self, endpoint_id: str, message_id: str) -> Delivery | None:
        found = dynamo.get_plain(self._db, self._table, deliveries_pk(endpoint_id), MSG + message_id)
        return _delivery(found) if found else None

    def page(self, endpoint_id: str, limit: int, cursor: str | None) -> DeliveryPage:
        pk = deliveries_pk(endpoint_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :msg)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":msg": {"S": MSG}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"pk": pk}, prefix=("sk", MSG))
        answer = self._db.query(**query)
        items = [dynamo.plain(i) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = dynamo.encode_cursor({"pk": items[-1]["pk"], "sk": items[-1]["sk"]}) if last and items else None
        return DeliveryPage(items=[_delivery(i) for i in items], next_cursor=next_cursor)

    def between(self, endpoint_id: str, first: str, last: str, limit: int) -> list[Delivery]:
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=dynamo.values(
                {":pk": deliveries_pk(endpoint_id), ":first": MSG + first, ":last": MSG + last}
            ),
            Limit=limit,
        )
        return [_delivery(dynamo.plain(i)) for i in answer.get("Items", [])]

    def claim(self, endpoint_id: str, message_id: str, attempt: int, now: datetime, stale_before: datetime) -> bool:
        return self._update(
            endpoint_id,
            message_id,
            "SET attempts = :next, claimed_at = :now REMOVE next_attempt_at",
            "#s = :pending AND ((attempts = :done AND attribute_not_exists(claimed_at))"
            " OR (attempts = :next AND claimed_at < :stale))",
            {
                ":next": attempt + 1,
                ":now": _iso(now),
                ":pending": "pending",
                ":done": attempt,
                ":stale": _iso(stale_before),
            },
        )

    def settle(
        self,
        delivery: Delivery,
        record: AttemptRecord,
        status: str,
        next_attempt_at: datetime | None,
        claimed_at: datetime,
    ) -> None:
        values: dict[str, Any] = {
            ":status": status,
            ":entry": [record.model_dump_json()],
            ":empty": [],
            ":number": record.number,
            ":claimed": _iso(claimed_at),
        }
        update = "SET #s = :status, #l = list_append(if_not_exists(#l, :empty), :entry)"
        if next_attempt_at is not None:
            update += ", next_attempt_at = :next"
            values[":next"] = _iso(next_attempt_at)
        update += " REMOVE claimed_at"
        claim = "attempts = :number AND claimed_at = :claimed"
        ids = (delivery.endpoint_id, delivery.message_id)
        if self._update(*ids, update, f"{claim} AND attribute_not_exists({FORGOTTEN})", values):
            return
        # Its contact was erased (perhaps since the claim): the answer is not kept.
        values[":entry"] = [_forgotten(record.model_dump_json())]
        if not self._update(*ids, update, f"{claim} AND attribute_exists({FORGOTTEN})", values):
            # taken over after this attempt looked abandoned: that one logs its own
            raise Conflict("the attempt's claim was taken over")

    def forget_answers(self, contact_id: str) -> int:
        changed = 0
        for item in dynamo.query_all(
            self._db,
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :contact",
            ExpressionAttributeValues=dynamo.values({":contact": contact_key(contact_id)}),
        ):
            changed += self._forget(item)
        return changed

    def _forget(self, item: dict[str, Any]) -> int:
        """Blank one delivery's answers (the index holds the whole item: projection ALL), again from
        a fresh read if an attempt logged one meanwhile (the log grew, or the index lagged)."""
        found: dict[str, Any] | None = item
        for _ in range(_FORGET_ATTEMPTS):
            if found is None:
                return 0  # expired meanwhile
            log = list(found.get("log") or [])
            blanked = [_forgotten(entry) for entry in log]
            if found.get(FORGOTTEN) and blanked == log:
                return 0
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=dynamo.key(item["pk"], item["sk"]),
                    UpdateExpression=f"SET #l = :log, {FORGOTTEN} = :yes",
                    ConditionExpression="attribute_exists(pk) AND size(#l) = :n",
                    ExpressionAttributeNames={"#l": "log"},
                    ExpressionAttributeValues=dynamo.values({":log": blanked, ":yes": True, ":n": len(log)}),
                )
            except ClientError as exc:
                if dynamo.condition_failed(exc):
                    found = dynamo.get_plain(self._db, self._table, item["pk"], item["sk"])
                    continue
                raise
            return 1
        raise Conflict("a delivery's log kept growing while its answers were being forgotten")

    def reopen(self, endpoint_id: str, message_id: str, attempts: int, now: datetime) -> bool:
        return self._update(
            endpoint_id,
            message_id,
            "SET #s = :pending, retry_from = :now REMOVE next_attempt_at",
            "#s IN (:delivered, :failed, :cancelled) AND attempts = :attempts",
            {
                ":pending": "pending",
                ":now": _iso(now),
                ":delivered": "delivered",
                ":failed": "failed",
                ":cancelled": "cancelled",
                ":attempts": attempts,
            },
        )

    def cancel(self, endpoint_id: str, message_id: str, attempts: int) -> None:
        self._update(
            endpoint_id,
            message_id,
            "SET #s = :cancelled REMOVE next_attempt_at",
            "#s = :pending AND attempts = :attempts",
            {":cancelled": "cancelled", ":pending": "pending", ":attempts": attempts},
        )

    def _update(self, endpoint_id: str, message_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        names = {n: v for n, v in (("#s", "status"), ("#l", "log")) if n in update + condition}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=dynamo.key(deliveries_pk(endpoint_id), MSG + message_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                ExpressionAttributeValues=dynamo.values(values),
                **({"ExpressionAttributeNames": names} if names else {}),  # type: ignore[arg-type]
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True


class DynamoEndpointMail(dynamo.PartitionMailLog):
    """The mail log of endpoint notices (ecrm.mail.MailLog): `ENDPOINT#<id>` / `MAIL#<key>`."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        super().__init__(client, table, deliveries_pk)


class DynamoRates:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def take(self, endpoint_id: str, second: int, limit: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=dynamo.key(f"RATE#{endpoint_id}", str(second)),
                UpdateExpression="ADD n :one SET expires_at = :gone",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues=dynamo.values({":one": 1, ":gone": second + 60, ":limit": limit}),
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True


def _forgotten(entry: str) -> str:
    """A logged attempt without the receiver's answer (its status, time and latency stay)."""
    record = AttemptRecord.model_validate_json(entry)
    return record.model_copy(update={"response": ""}).model_dump_json() if record.response else entry


def _delivery(item: dict[str, Any]) -> Delivery:
    fields = {name: item[name] for name in Delivery.model_fields if name in item and name != "log"}
    log = [AttemptRecord.model_validate_json(entry) for entry in item.get("log") or []]
    return Delivery.model_validate({**fields, "log": log})
