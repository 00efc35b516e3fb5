"""Contacts in DynamoDB (single table; key design in docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.contacts import feed, search
from ecrm.contacts.models import ConsentRecord, Contact, Erasure
from ecrm.contacts.search import SearchQuery
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROFILE = "PROFILE"
ERASED = "ERASED"
SEARCH = "SEARCH#"
# gsi1pk of a search kind's index items: prefix kinds by their first two characters (a prefix search
# needs one fixed partition), the phone by its whole number.
_GROUP: dict[search.SearchKind, str] = {"email_prefix": "EMAIL", "name": "NAME", "phone": "PHONE", "company": "COMPANY"}
# Index pages are read until a page is full or this many reads were made (a name search skips a
# contact's second name item; an erased contact's items may outlive its profile for a moment).
_SEARCH_READS = 4


def contact_pk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email}"


class DynamoContacts:
    """`outbox`: where writes commit the events they announce; readers (the campaign sender) and
    writers that announce nothing leave it out."""

    def __init__(
        self, client: DynamoDBClient, table: str, outbox: Outbox | None = None, phone_country: str | None = None
    ) -> None:
        """`phone_country`: the calling code a phone number without one is taken to have (the
        search index's E.164 form); writers that never store a phone leave it out."""
        self._db = client
        self._table = table
        self._outbox = outbox
        self._phone_country = phone_country

    # -- reads -------------------------------------------------------------------------------
    def get(self, contact_id: str) -> Contact | None:
        item = self._db.get_item(TableName=self._table, Key=dynamo.key(contact_pk(contact_id), PROFILE)).get("Item")
        return self._contact(item) if item else None

    def find_by_email(self, email: str) -> Contact | None:
        """One GetItem: the address's item carries a copy of the profile, written in every
        transaction that writes the profile (an item written before it did is followed by id)."""
        ref = self._db.get_item(TableName=self._table, Key=dynamo.key(email_pk(email), "EMAIL")).get("Item")
        if not ref:
            return None
        return self._contact(ref) if "contact" in ref else self.get(ref["contact_id"]["S"])

    def list_by_tag(self, tag: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :t",
            "ExpressionAttributeValues": {":t": {"S": f"TAG#{tag}"}},
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"gsi1pk": f"TAG#{tag}"})
        page = self._db.query(**query)
        ids = [item["contact_id"]["S"] for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return self._batch_get(ids), dynamo.encode_cursor(last) if last else None

    def search(self, query: SearchQuery, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        """Contacts whose index items match `query`, in index order (by normalized value), each
        once; a cursor only continues the same query."""
        partition = _partition_of(query.kind, query.value)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
            "ExpressionAttributeValues": {":p": {"S": partition}, ":s": {"S": query.value}},
        }
        mark = f"{query.kind}:{query.value}"
        if cursor:
            start = dynamo.decode_cursor(cursor, {"gsi1pk": partition, "q": mark}, prefix=("gsi1sk", query.value))
            request["ExclusiveStartKey"] = {k: v for k, v in start.items() if k != "q"}
        ids: list[str] = []
        last: dict[str, Any] | None = None
        for _ in range(_SEARCH_READS):
            page = self._db.query(**request, Limit=limit - len(ids))
            ids += [i["contact_id"]["S"] for i in page.get("Items", []) if _first_hit(i, query.value)]
            last = page.get("LastEvaluatedKey")
            if not last or len(ids) >= limit:
                break
            request["ExclusiveStartKey"] = last
        next_cursor = dynamo.encode_cursor({**last, "q": {"S": mark}}) if last else None
        return self._batch_get(ids), next_cursor

    def changes(self, window: feed.Window, limit: int) -> list[tuple[str, Contact | Erasure]]:
        """The first `limit` changes in `window`, in feed order, with their positions: one Query
        per shard of the feed (gsi1), merged."""
        found: dict[str, dict[str, Any]] = {}
        pages: list[list[str]] = []
        for n in range(feed.SHARDS):
            condition = "gsi1pk = :p AND " + ("gsi1sk BETWEEN :lo AND :hi" if window.after else "gsi1sk < :hi")
            values = {":p": {"S": f"{feed.PREFIX}{n}"}, ":hi": {"S": window.before}}
            if window.after:
                values[":lo"] = {"S": window.after}
            page = self._db.query(
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                Limit=limit + 1,  # BETWEEN includes the cursor's own position
            )
            items = {i["gsi1sk"]["S"]: i for i in page.get("Items", []) if i["gsi1sk"]["S"] != window.after}
            found |= items
            pages.append(sorted(items))
        return [(pos, _change(found[pos])) for pos in feed.first(pages, limit)]

    def reindex(self, contact: Contact) -> bool:
        """Put every search index item of `contact`, and its place in the change feed, if its
        profile is still at its version: the backfill of contacts stored before the index and the
        feed existed (idempotent). False when the profile changed meanwhile (that write indexed
        it) or is gone."""
        at = self._feed(contact)
        guard = {
            "Update": {
                "TableName": self._table,
                "Key": dynamo.key(contact_pk(contact.id), PROFILE),
                "UpdateExpression": "SET gsi1pk = :fp, gsi1sk = :fs",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {
                    ":v": {"N": str(contact.version)},
                    ":fp": {"S": at["gsi1pk"]},
                    ":fs": {"S": at["gsi1sk"]},
                },
            }
        }
        puts = [self._put(i) for i in self._index_items(contact).values()]
        try:
            self._db.transact_write_items(TransactItems=[guard, *puts])  # type: ignore[list-item]
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def announce(self, events: Sequence[DomainEvent]) -> None:
        """Events that go with no change (a repeated erase announces itself again)."""
        self._db.transact_write_items(TransactItems=self._events(events))  # type: ignore[arg-type]

    def is_erased(self, contact_id: str) -> bool:
        key = dynamo.key(contact_pk(contact_id), ERASED)
        return "Item" in self._db.get_item(TableName=self._table, Key=key)

    # -- writes ------------------------------------------------------------------------------
    def create(self, contact: Contact, consent: Sequence[ConsentRecord], events: Sequence[DomainEvent] = ()) -> None:
        items = [
            self._put(self._email_ref(contact), "attribute_not_exists(pk)"),
            self._put({**self._profile(contact), **self._feed(contact)}, "attribute_not_exists(pk)"),
            *(self._put(self._tag(contact, t)) for t in contact.tags),
            *(self._put(self._consent(contact.id, r)) for r in consent),
            *(self._put(i) for i in self._index_items(contact).values()),
            *self._events(events),
        ]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise AlreadyExists(contact.email) from exc
            raise

    def save(
        self,
        contact: Contact,
        before: Contact,
        added_tags: Sequence[str] = (),
        removed_tags: Sequence[str] = (),
        consent: Sequence[ConsentRecord] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        expected_version = before.version
        guard = {":v": {"N": str(expected_version)}}
        items = [
            self._put({**self._profile(contact), **self._feed(contact)}, "version = :v", guard),
            self._put(self._email_ref(contact)),  # the profile's copy: the version guard above covers it
            *(self._put(self._tag(contact, t)) for t in added_tags),
            *(
                {"Delete": {"TableName": self._table, "Key": dynamo.key(contact_pk(contact.id), f"TAG#{t}")}}
                for t in removed_tags
            ),
            *(self._put(self._consent(contact.id, r)) for r in consent),
            *self._index_changes(before, contact),
            *self._events(events),
        ]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict(f"contact {contact.id} is no longer at version {expected_version}") from exc
            raise

    def claim_mail(self, contact_id: str, key: str, now: datetime) -> bool:
        return dynamo.claim_mail(self._db, self._table, contact_pk(contact_id), key, now)

    def mark_mail_sent(self, contact_id: str, key: str, message_id: str, now: datetime) -> None:
        dynamo.mark_mail_sent(self._db, self._table, contact_pk(contact_id), key, message_id, now)

    def mark_mail_failed(self, contact_id: str, mail_key: str, reason: str, now: datetime) -> None:
        dynamo.mark_mail_failed(self._db, self._table, contact_pk(contact_id), mail_key, reason, now)

    def release_mail(self, contact_id: str, mail_key: str, claimed_at: datetime) -> None:
        dynamo.release_mail(self._db, self._table, contact_pk(contact_id), mail_key, claimed_at)

    def erase(self, contact: Contact, now: datetime, events: Sequence[DomainEvent] = ()) -> None:
        """Tombstone (with the events announcing the erasure) first, profile last: a crash part-way
        leaves the profile, so a retried erase finds the contact and finishes the job."""
        pk = contact_pk(contact.id)
        tombstone = {"pk": pk, "sk": ERASED, "erased_at": now.isoformat(), **self._feed(contact, now)}
        self._write_with_events(dynamo.item(tombstone), events)
        keys = [dynamo.key(email_pk(contact.email), "EMAIL")]
        keys += [dynamo.key(pk, i["sk"]) for i in self._partition(contact.id) if i["sk"] not in {PROFILE, ERASED}]
        dynamo.batch_delete(self._db, self._table, keys)
        self._db.delete_item(TableName=self._table, Key=dynamo.key(pk, PROFILE))

    # -- helpers -----------------------------------------------------------------------------
    def _events(self, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        return outbox.puts(self._outbox, events, "the contacts repository")

    def _write_with_events(self, values: dict[str, Any], events: Sequence[DomainEvent]) -> None:
        if events:
            put = {"Put": {"TableName": self._table, "Item": values}}
            self._db.transact_write_items(TransactItems=[put, *self._events(events)])  # type: ignore[list-item]
        else:
            self._db.put_item(TableName=self._table, Item=values)

    def _put(
        self, values: dict[str, Any], condition: str | None = None, values_for_condition: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": dynamo.item(values)}
        if condition:
            put["ConditionExpression"] = condition
        if values_for_condition:
            put["ExpressionAttributeValues"] = values_for_condition
        return {"Put": put}

    def _index_items(self, contact: Contact) -> dict[str, dict[str, Any]]:
        """The contact's search index items by sort key (`SEARCH#<slot>`): in its own partition,
        so erasure removes them with the rest; on gsi1 under keys of their own (`_partition_of`)."""
        values = search.index_values(contact, self._phone_country)
        names = sorted(v for s, v in values.items() if search.SLOT_KIND[s] == "name")
        items: dict[str, dict[str, Any]] = {}
        for slot, value in values.items():
            kind = search.SLOT_KIND[slot]
            sk = f"{SEARCH}{slot.upper()}"
            items[sk] = {
                "pk": contact_pk(contact.id),
                "sk": sk,
                "contact_id": contact.id,
                "gsi1pk": _partition_of(kind, value),
                "gsi1sk": f"{value}#{contact.id}",
                "names": names if kind == "name" and len(names) > 1 else None,
            }
        return items

    def _index_changes(self, before: Contact, after: Contact) -> list[dict[str, Any]]:
        """Put the index items that differ from `before`'s (a Put on the same key replaces the old
        item and its gsi1 entry), Delete those whose field is gone; unchanged ones cost nothing."""
        old, new = self._index_items(before), self._index_items(after)
        puts = [self._put(item) for sk, item in new.items() if old.get(sk) != item]
        key = contact_pk(after.id)
        deletes = [{"Delete": {"TableName": self._table, "Key": dynamo.key(key, sk)}} for sk in old if sk not in new]
        return [*puts, *deletes]

    @staticmethod
    def _profile(contact: Contact) -> dict[str, Any]:
        return {
            "pk": contact_pk(contact.id),
            "sk": PROFILE,
            "version": contact.version,
            "contact": contact.model_dump(mode="json", exclude={"version"}),
        }

    @staticmethod
    def _feed(contact: Contact, at: datetime | None = None) -> dict[str, str]:
        """The item's place in the change feed (gsi1): the profile's, at its last change; an
        erasure's tombstone's, at the erasure."""
        return {"gsi1pk": feed.shard(contact.id), "gsi1sk": feed.position(at or contact.updated_at, contact.id)}

    @classmethod
    def _email_ref(cls, contact: Contact) -> dict[str, Any]:
        return {**cls._profile(contact), "pk": email_pk(contact.email), "sk": "EMAIL", "contact_id": contact.id}

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
        plain = dynamo.plain(item)
        return Contact.model_validate({**plain["contact"], "version": int(plain["version"])})

    def _partition(self, contact_id: str) -> Iterator[dict[str, Any]]:
        return dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": contact_pk(contact_id)}},
        )

    def _batch_get(self, ids: list[str]) -> list[Contact]:
        keys = [dynamo.key(contact_pk(i), PROFILE) for i in ids]
        found = {c.id: c for c in map(self._contact, dynamo.batch_get_raw(self._db, self._table, keys))}
        return [found[i] for i in ids if i in found]


def _partition_of(kind: search.SearchKind, value: str) -> str:
    part = value if kind == "phone" else value[: search.MIN_PREFIX]
    return f"{SEARCH}{_GROUP[kind]}#{part}"


def _first_hit(item: dict[str, Any], prefix: str) -> bool:
    """An index item a search answers with: a contact's second name item matching the same prefix
    is skipped, within a page and across pages (the one met first answers)."""
    if "names" not in item:
        return True
    value = item["gsi1sk"]["S"].rsplit("#", 1)[0]
    return search.first_hit(value, [n["S"] for n in item["names"]["L"]], prefix)


def _change(item: dict[str, Any]) -> Contact | Erasure:
    plain = dynamo.plain(item)
    if plain["sk"] == ERASED:
        return Erasure(id=str(plain["pk"]).removeprefix("CONTACT#"), erased_at=plain["erased_at"])
    return Contact.model_validate({**plain["contact"], "version": int(plain["version"])})


def contact_from_item(item: dict[str, Any]) -> Contact:
    """A stored profile item (DynamoDB JSON) as a Contact: for readers that batch-get profiles
    themselves (the campaign sender)."""
    return DynamoContacts._contact(item)
