"""Contacts in DynamoDB (single table; key design in docs/data-model.md)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ecrm.contacts.models import ConsentRecord, Contact
from ecrm.contacts.ports import Related
from ecrm.errors import AlreadyExists, Conflict, InvalidInput

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROFILE = "PROFILE"
ERASED = "ERASED"
# An open mail claim older than this is taken as a crashed sender's (the queue redelivers after
# its visibility timeout, longer than this), so the redelivery may send; a younger one is a
# concurrent duplicate delivery and must not.
MAIL_CLAIM_LEASE = timedelta(minutes=2)

_ser = TypeSerializer()
_de = TypeDeserializer()


def contact_pk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email}"


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _condition_failed(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    reasons = exc.response.get("CancellationReasons", [])
    return code == "TransactionCanceledException" and any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)


class DynamoContacts:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    # -- reads -------------------------------------------------------------------------------
    def get(self, contact_id: str) -> Contact | None:
        item = self._db.get_item(TableName=self._table, Key=_key(contact_pk(contact_id), PROFILE)).get("Item")
        return self._contact(item) if item else None

    def find_by_email(self, email: str) -> Contact | None:
        ref = self._db.get_item(TableName=self._table, Key=_key(email_pk(email), "EMAIL")).get("Item")
        return self.get(ref["contact_id"]["S"]) if ref else None

    def list_by_tag(self, tag: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :t",
            "ExpressionAttributeValues": {":t": {"S": f"TAG#{tag}"}},
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = _decode_cursor(cursor, tag)
        page = self._db.query(**query)
        ids = [item["contact_id"]["S"] for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return self._batch_get(ids), _encode_cursor(last) if last else None

    def related(self, contact_id: str) -> Related:
        consent: list[ConsentRecord] = []
        mail: list[dict[str, Any]] = []
        for item in self._partition(contact_id):
            sk = item["sk"]
            if sk.startswith("CONSENT#"):
                consent.append(ConsentRecord.model_validate(item["record"]))
            elif sk.startswith("MAIL#"):
                mail.append({k: v for k, v in item.items() if k not in {"pk", "sk"}})
        return Related(consent=consent, mail=mail)

    def is_erased(self, contact_id: str) -> bool:
        key = _key(contact_pk(contact_id), ERASED)
        return "Item" in self._db.get_item(TableName=self._table, Key=key)

    # -- writes ------------------------------------------------------------------------------
    def create(self, contact: Contact, consent: Sequence[ConsentRecord]) -> None:
        email_ref = {"pk": email_pk(contact.email), "sk": "EMAIL", "contact_id": contact.id}
        items = [
            self._put(email_ref, "attribute_not_exists(pk)"),
            self._put(self._profile(contact), "attribute_not_exists(pk)"),
            *(self._put(self._tag(contact, t)) for t in contact.tags),
            *(self._put(self._consent(contact.id, r)) for r in consent),
        ]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if _condition_failed(exc):
                raise AlreadyExists(contact.email) from exc
            raise

    def save(
        self,
        contact: Contact,
        expected_version: int,
        added_tags: Sequence[str] = (),
        removed_tags: Sequence[str] = (),
        consent: Sequence[ConsentRecord] = (),
    ) -> None:
        guard = {":v": {"N": str(expected_version)}}
        items = [
            self._put(self._profile(contact), "version = :v", guard),
            *(self._put(self._tag(contact, t)) for t in added_tags),
            *(
                {"Delete": {"TableName": self._table, "Key": _key(contact_pk(contact.id), f"TAG#{t}")}}
                for t in removed_tags
            ),
            *(self._put(self._consent(contact.id, r)) for r in consent),
        ]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if _condition_failed(exc):
                raise Conflict(f"contact {contact.id} is no longer at version {expected_version}") from exc
            raise

    def claim_mail(self, contact_id: str, key: str, now: datetime) -> bool:
        item = {"pk": contact_pk(contact_id), "sk": f"MAIL#{key}", "status": "sending", "claimed_at": now.isoformat()}
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_item(item),
                ConditionExpression="attribute_not_exists(pk) OR (#s = :sending AND claimed_at < :stale)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":sending": {"S": "sending"},
                    ":stale": {"S": (now - MAIL_CLAIM_LEASE).isoformat()},
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def mark_mail_sent(self, contact_id: str, key: str, message_id: str, now: datetime) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=_key(contact_pk(contact_id), f"MAIL#{key}"),
            UpdateExpression="SET #s = :sent, message_id = :m, sent_at = :t",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":sent": {"S": "sent"}, ":m": {"S": message_id}, ":t": {"S": now.isoformat()}},
        )

    def erase(self, contact: Contact, now: datetime) -> None:
        """Tombstone first, profile last: a crash part-way leaves the profile, so a retried erase
        finds the contact and finishes the job."""
        pk = contact_pk(contact.id)
        self._db.put_item(TableName=self._table, Item=_item({"pk": pk, "sk": ERASED, "erased_at": now.isoformat()}))
        keys = [_key(email_pk(contact.email), "EMAIL")]
        keys += [_key(pk, i["sk"]) for i in self._partition(contact.id) if i["sk"] not in {PROFILE, ERASED}]
        for start in range(0, len(keys), 25):
            self._batch_delete(keys[start : start + 25])
        self._db.delete_item(TableName=self._table, Key=_key(pk, PROFILE))

    # -- helpers -----------------------------------------------------------------------------
    def _put(
        self, values: dict[str, Any], condition: str | None = None, values_for_condition: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": _item(values)}
        if condition:
            put["ConditionExpression"] = condition
        if values_for_condition:
            put["ExpressionAttributeValues"] = values_for_condition
        return {"Put": put}

    @staticmethod
    def _profile(contact: Contact) -> dict[str, Any]:
        return {
            "pk": contact_pk(contact.id),
            "sk": PROFILE,
            "version": contact.version,
            "contact": contact.model_dump(mode="json", exclude={"version"}),
        }

    @staticmethod
    def _tag(contact: Contact, tag: str) -> dict[str, Any]:
        return {
            "pk": contact_pk(contact.id),
            "sk": f"TAG#{tag}",
            "contact_id": contact.id,
            "gsi1pk": f"TAG#{tag}",
            "gsi1sk": f"{contact.created_at.isoformat()}#{contact.id}",
        }

    @staticmethod
    def _consent(contact_id: str, record: ConsentRecord) -> dict[str, Any]:
        sk = f"CONSENT#{record.at.isoformat()}#{record.kind}#{record.request_id}"
        return {"pk": contact_pk(contact_id), "sk": sk, "record": record.model_dump(mode="json")}

    @staticmethod
    def _contact(item: dict[str, Any]) -> Contact:
        plain = _plain(item)
        return Contact.model_validate({**plain["contact"], "version": int(plain["version"])})

    def _partition(self, contact_id: str) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": contact_pk(contact_id)}},
        }
        while True:
            page = self._db.query(**query)
            yield from (_plain(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_get(self, ids: list[str]) -> list[Contact]:
        if not ids:
            return []
        found: dict[str, Contact] = {}
        request: dict[str, Any] = {self._table: {"Keys": [_key(contact_pk(i), PROFILE) for i in ids]}}
        while request:
            answer = self._db.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self._table, []):
                contact = self._contact(item)
                found[contact.id] = contact
            request = answer.get("UnprocessedKeys") or {}
        return [found[i] for i in ids if i in found]

    def _batch_delete(self, keys: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self._table: [{"DeleteRequest": {"Key": k}} for k in keys]}
        while request:
            request = self._db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def contact_from_item(item: dict[str, Any]) -> Contact:
    """A stored profile item (DynamoDB JSON) as a Contact: for readers that batch-get profiles
    themselves (the campaign sender)."""
    return DynamoContacts._contact(item)


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str, tag: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("cursor", "not a cursor this API returned") from exc
    # A cursor only continues the listing it came from; anything else is rejected, not queried.
    if not isinstance(key, dict) or key.get("gsi1pk") != {"S": f"TAG#{tag}"}:
        raise InvalidInput("cursor", "not a cursor this API returned")
    return key
