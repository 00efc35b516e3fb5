"""The segment index, membership snapshots, preferences and the sender's batched recipient reads.

In the Campaigns table, beside the contact (`CONTACT#<id>`): the member snapshot (`MEMBER`), one
index item per partition the contact is in (`SEG#<kind>#<value>`, on gsi1 by that partition and
`<activity>#<id>`), and its preferences (`PREFS`). Partition sizes are kept on `SEGCOUNT#<partition>`
items for the planner's estimates. Every segment read is a Query on gsi1: there is no Scan here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.adapters.dynamo import Item
from ecrm.campaigns.adapters.dynamo_sends import DynamoSuppressions
from ecrm.campaigns.models import Preferences, Suppression, address_key
from ecrm.campaigns.ports import MemberPage, Membership, Recipient
from ecrm.campaigns.segments import IndexQuery, Member, sort_key
from ecrm.contacts.adapters.dynamo_contacts import PROFILE, contact_from_item, contact_pk
from ecrm.contacts.models import Contact
from ecrm.errors import Conflict, NotFound
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MEMBER = "MEMBER"
PREFS = "PREFS"


def _count_key(partition: str) -> Item:
    return dynamo.key(f"SEGCOUNT#{partition}", "COUNT")


def _profile_check(contacts_table: str, contact_id: str) -> Item:
    return {
        "ConditionCheck": {
            "TableName": contacts_table,
            "Key": dynamo.key(contact_pk(contact_id), PROFILE),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def _versioned_put(table: str, stored: Item, expected_version: int) -> dict[str, Any]:
    """A Put of the next version: over `expected_version`, or new when that is 0."""
    if not expected_version:
        return {"TableName": table, "Item": stored, "ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "TableName": table,
        "Item": stored,
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": dynamo.values({":v": expected_version}),
    }


def _raise_for(exc: ClientError, what: str) -> NoReturn:
    """A cancelled transaction whose last item is the profile check: NotFound if that failed,
    Conflict if another condition did; anything else as it came."""
    reasons = dynamo.cancellation_codes(exc)
    if reasons and reasons[-1] == "ConditionalCheckFailed":
        raise NotFound("contact") from exc
    if dynamo.condition_failed(exc):
        raise Conflict(f"{what} changed meanwhile") from exc
    raise exc


class DynamoSegmentIndex:
    """SegmentIndex (reads, on gsi1) and MembershipStore (writes, beside the contact)."""

    def __init__(self, client: DynamoDBClient, table: str, contacts_table: str) -> None:
        self._db = client
        self._table = table
        self._contacts_table = contacts_table

    # -- SegmentIndex ------------------------------------------------------------------------------
    def query(self, query: IndexQuery, limit: int, cursor: str | None) -> MemberPage:
        condition = "gsi1pk = :p"
        vals: dict[str, Any] = {":p": query.partition}
        lower, upper = query.range.lower, query.range.upper
        # Sort keys are `<time>#<id>` and the bounds bare times: no key equals a bound, so BETWEEN
        # lower AND upper is the half-open range [lower, upper).
        if lower is not None and upper is not None:
            condition += " AND gsi1sk BETWEEN :lo AND :hi"
            vals |= {":lo": lower, ":hi": upper}
        elif lower is not None:
            condition += " AND gsi1sk >= :lo"
            vals[":lo"] = lower
        elif upper is not None:
            condition += " AND gsi1sk < :hi"
            vals[":hi"] = upper
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": dynamo.values(vals),
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"gsi1pk": query.partition})
        page = self._db.query(**request)
        members = [Member.model_validate_json(dynamo.plain(i)["doc"]) for i in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return MemberPage(members, dynamo.encode_cursor(last) if last else None)

    def estimates(self, partitions: Collection[str]) -> dict[str, int]:
        keys = [_count_key(p) for p in partitions]
        found = dynamo.batch_get(self._db, self._table, keys)
        return {str(i["pk"]).removeprefix("SEGCOUNT#"): max(0, int(i.get("count", 0))) for i in found}

    # -- MembershipStore ---------------------------------------------------------------------------
    def load(self, contact_id: str) -> Membership | None:
        found = self._db.get_item(
            TableName=self._table, Key=dynamo.key(contact_pk(contact_id), MEMBER), ConsistentRead=True
        ).get("Item")
        if not found:
            return None
        stored = dynamo.plain(found)
        member = Member.model_validate_json(stored["doc"])
        return Membership(member, frozenset(stored.get("keys", [])), int(stored["version"]))

    def store(self, member: Member, keys: frozenset[str], previous: frozenset[str], expected_version: int) -> None:
        pk = contact_pk(member.contact_id)
        doc = member.model_dump_json()
        snapshot = {"pk": pk, "sk": MEMBER, "doc": doc, "keys": sorted(keys), "version": expected_version + 1}
        guard = _versioned_put(self._table, dynamo.item(snapshot), expected_version)
        index = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": dynamo.item({"pk": pk, "sk": k, "gsi1pk": k, "gsi1sk": sort_key(member), "doc": doc}),
                }
            }
            for k in sorted(keys)
        ]
        gone = [{"Delete": {"TableName": self._table, "Key": dynamo.key(pk, k)}} for k in sorted(previous - keys)]
        try:
            dynamo.transact(
                self._db, [{"Put": guard}, *index, *gone, _profile_check(self._contacts_table, member.contact_id)]
            )
        except ClientError as exc:
            _raise_for(exc, "membership")
        self._count(keys - previous, 1)
        self._count(previous - keys, -1)

    def drop(self, contact_id: str) -> None:
        """Everything of the contact's but its send records: index items and preferences first,
        the snapshot last (a crash part-way leaves it, and a retried erasure finds the rest)."""
        pk = contact_pk(contact_id)
        stored = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dynamo.values({":pk": pk}),
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        sort_keys = [str(i["sk"]) for i in stored]
        segments = [sk for sk in sort_keys if sk.startswith("SEG#")]
        doomed = [*segments, *(sk for sk in sort_keys if sk == PREFS)]
        dynamo.batch_delete(self._db, self._table, [dynamo.key(pk, sk) for sk in doomed])
        self._count(frozenset(segments), -1)
        if MEMBER in sort_keys:
            self._db.delete_item(TableName=self._table, Key=dynamo.key(pk, MEMBER))

    def _count(self, partitions: frozenset[str], delta: int) -> None:
        # Outside the membership transaction on purpose: every contact of a big partition moves
        # the same counter, which inside transactions would make them conflict. The counts only
        # steer the planner's choice of driving query (docs/decisions.md).
        for partition in sorted(partitions):
            self._db.update_item(
                TableName=self._table,
                Key=_count_key(partition),
                UpdateExpression="ADD #c :d",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues=dynamo.values({":d": delta}),
            )


class DynamoPreferences:
    def __init__(self, client: DynamoDBClient, table: str, contacts_table: str, outbox: Outbox | None = None) -> None:
        self._db = client
        self._table = table
        self._contacts_table = contacts_table
        self._outbox = outbox

    def get(self, contact_id: str) -> Preferences:
        found = self._db.get_item(
            TableName=self._table, Key=dynamo.key(contact_pk(contact_id), PREFS), ConsistentRead=True
        ).get("Item")
        return preferences_of(contact_id, dynamo.plain(found)) if found else Preferences(contact_id=contact_id)

    def save(self, preferences: Preferences, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        stored = dynamo.item(
            {
                "pk": contact_pk(preferences.contact_id),
                "sk": PREFS,
                "unsubscribed": sorted(preferences.unsubscribed),
                "updated_at": preferences.updated_at.isoformat() if preferences.updated_at else None,
                "version": expected_version + 1,
            }
        )
        put = _versioned_put(self._table, stored, expected_version)
        try:
            announced = outbox.puts(self._outbox, events, "the preferences store")
            check = _profile_check(self._contacts_table, preferences.contact_id)
            dynamo.transact(self._db, [{"Put": put}, check, *announced])
        except ClientError as exc:
            _raise_for(exc, "preferences")


def preferences_of(contact_id: str, stored: dict[str, Any]) -> Preferences:
    return Preferences(
        contact_id=contact_id,
        unsubscribed=frozenset(stored.get("unsubscribed", [])),
        updated_at=stored.get("updated_at"),
        version=int(stored.get("version", 0)),
    )


class DynamoRecipients:
    """RecipientDirectory: for a batch of ids, the profiles (Contacts table), the preferences and
    member snapshots, then the suppression entries of their addresses: three BatchGetItem rounds."""

    def __init__(self, client: DynamoDBClient, table: str, contacts_table: str) -> None:
        self._db = client
        self._table = table
        self._contacts_table = contacts_table

    def recipients(self, contact_ids: Sequence[str]) -> dict[str, Recipient]:
        ids = list(dict.fromkeys(contact_ids))
        contacts = self._profiles(ids)
        beside = self._beside(ids)
        suppressed = self._suppressions([c.email for c in contacts.values()])
        found = {}
        for cid in ids:
            contact = contacts.get(cid)
            member = beside.get((cid, MEMBER))
            found[cid] = Recipient(
                contact_id=cid,
                contact=contact,
                preferences=preferences_of(cid, beside.get((cid, PREFS), {})),
                suppression=suppressed.get(address_key(contact.email)) if contact else None,
                tier=Member.model_validate_json(member["doc"]).tier if member else None,
            )
        return found

    def _profiles(self, ids: list[str]) -> dict[str, Contact]:
        keys = [dynamo.key(contact_pk(i), PROFILE) for i in ids]
        contacts = (contact_from_item(i) for i in dynamo.batch_get_raw(self._db, self._contacts_table, keys))
        return {c.id: c for c in contacts}

    def _beside(self, ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        keys = [dynamo.key(contact_pk(i), sk) for i in ids for sk in (MEMBER, PREFS)]
        found = dynamo.batch_get(self._db, self._table, keys)
        return {(str(i["pk"]).removeprefix("CONTACT#"), str(i["sk"])): i for i in found}

    def _suppressions(self, emails: list[str]) -> dict[str, Suppression]:
        keys = [DynamoSuppressions.key_of(e) for e in emails]
        entries = (DynamoSuppressions.entry(i) for i in dynamo.batch_get(self._db, self._table, keys))
        return {s.address_key: s for s in entries}
