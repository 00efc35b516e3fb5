"""The Journeys table: journeys, their versions, their counters, and each contact's progress.

Keys (docs/data-model.md, "Journeys"):
- `JOURNEYS` / `<journey id>`: the journey (status, newest version, revision): one partition lists
  them all (a few hundred at most), which is what the runner's live list reads.
- `J#<journey id>` / `V#<version, 6 digits>`: a version's definition, never changed once written.
- `J#<journey id>` / `S#<version>#<shard>`: the version's counters, spread over SHARDS items by the
  contact's hash so a hundred thousand contacts entering at once do not queue on one item.
- `C#<contact id>` / `J#<journey id>`: the contact's progress in the journey (`rev` guards each
  write); while held by a pause it is also on gsi1 (`HELD#<journey id>` / contact id).
- `C#<contact id>` / `MAIL#<key>`: a mail's claim (ecrm.mail.send_once), in the contact's
  partition: an erasure deletes the partition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.adapters import dynamo
from ecrm.errors import AlreadyExists, Conflict
from ecrm.journeys.models import Definition, Journey, JourneyVersion, Progress
from ecrm.journeys.ports import Move
from ecrm.outbox import Outbox, puts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LIST_PK = "JOURNEYS"
SHARDS = 8
HELD_INDEX = "gsi1"


def journey_pk(journey_id: str) -> str:
    return f"J#{journey_id}"


def contact_pk(contact_id: str) -> str:
    return f"C#{contact_id}"


def version_sk(version: int) -> str:
    return f"V#{version:06d}"


def shard_of(contact_id: str) -> int:
    return hashlib.sha256(contact_id.encode()).digest()[0] % SHARDS


class DynamoJourneys:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table
        self._definitions: dict[tuple[str, int], Definition] = {}  # versions never change

    def get(self, journey_id: str) -> Journey | None:
        found = dynamo.get_plain(self._db, self._table, LIST_PK, journey_id)
        return Journey.model_validate_json(found["doc"]) if found else None

    def definition(self, journey_id: str, version: int) -> Definition | None:
        key = (journey_id, version)
        if key not in self._definitions:
            found = dynamo.get_plain(self._db, self._table, journey_pk(journey_id), version_sk(version))
            if found is None:
                return None
            self._definitions[key] = JourneyVersion.model_validate_json(found["doc"]).definition
        return self._definitions[key]

    def live(self) -> Sequence[tuple[Journey, Definition]]:
        """Read for every event (one Query of the list's partition): a journey started a moment
        ago lets the next event's contact in. The definitions come from this container's copy."""
        live = [j for j in self.all() if j.status == "live"]
        found = [(j, self.definition(j.id, j.version)) for j in live]
        return [(j, d) for j, d in found if d is not None]

    def all(self) -> Sequence[Journey]:
        rows = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": LIST_PK}},
        )
        return [Journey.model_validate_json(row["doc"]) for row in rows]

    def create(self, journey: Journey, version: JourneyVersion) -> None:
        try:
            dynamo.transact(self._db, [self._put_journey(journey, None), self._put_version(version)])
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise AlreadyExists("journey") from None
            raise

    def save(self, journey: Journey, expected_revision: int, version: JourneyVersion | None = None) -> None:
        items = [self._put_journey(journey, expected_revision)]
        if version is not None:
            items.append(self._put_version(version))
        try:
            dynamo.transact(self._db, items)
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict("the journey changed meanwhile") from None
            raise

    def _put_journey(self, journey: Journey, expected_revision: int | None) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": dynamo.item(
                {
                    "pk": LIST_PK,
                    "sk": journey.id,
                    "status": journey.status,
                    "revision": journey.revision,
                    "doc": journey.model_dump_json(),
                }
            ),
        }
        if expected_revision is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "revision = :r"
            put["ExpressionAttributeValues"] = {":r": {"N": str(expected_revision)}}
        return {"Put": put}

    def _put_version(self, version: JourneyVersion) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": dynamo.item(
                    {
                        "pk": journey_pk(version.journey_id),
                        "sk": version_sk(version.version),
                        "doc": version.model_dump_json(by_alias=True),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }


class DynamoProgress(dynamo.PartitionMailLog):
    """Progress, counters and mail claims (ProgressStore, StatsStore, and ecrm.mail.MailLog in the
    contact's partition, which an erasure deletes)."""

    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        super().__init__(client, table, contact_pk)
        self._db = client
        self._table = table
        self._outbox = outbox

    # -- progress --------------------------------------------------------------------------------
    def of_contact(self, contact_id: str) -> Sequence[Progress]:
        rows = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :j)",
            ExpressionAttributeValues={":pk": {"S": contact_pk(contact_id)}, ":j": {"S": "J#"}},
            ConsistentRead=True,
        )
        return [Progress.model_validate_json(row["doc"]) for row in rows]

    def get(self, journey_id: str, contact_id: str) -> Progress | None:
        found = self._db.get_item(
            TableName=self._table,
            Key=dynamo.key(contact_pk(contact_id), journey_pk(journey_id)),
            ConsistentRead=True,
        ).get("Item")
        return Progress.model_validate_json(dynamo.plain(found)["doc"]) if found else None

    def move(self, move: Move) -> bool:
        items = [self._put(move)]
        if move.live:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": dynamo.key(LIST_PK, move.after.journey_id),
                        "ConditionExpression": "#s = :live",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":live": {"S": "live"}},
                    }
                }
            )
        counts = {k: v for k, v in move.counts.items() if v}
        if counts:
            items.append(self._count(move.after, counts))
        items += puts(self._outbox, move.events, "the journeys' progress")
        try:
            if len(items) == 1:
                self._db.put_item(**items[0]["Put"])
            else:
                dynamo.transact(self._db, items)
        except ClientError as exc:
            if dynamo.lost_race(exc):
                return False
            raise
        return True

    def _put(self, move: Move) -> dict[str, Any]:
        after = move.after
        values: dict[str, Any] = {
            "pk": contact_pk(after.contact_id),
            "sk": journey_pk(after.journey_id),
            "rev": after.rev,
            "status": after.status,
            "doc": after.model_dump_json(),
        }
        if after.status == "held":
            values |= {"gsi1pk": f"HELD#{after.journey_id}", "gsi1sk": after.contact_id}
        put: dict[str, Any] = {"TableName": self._table, "Item": dynamo.item(values)}
        if move.before is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "rev = :rev"
            put["ExpressionAttributeValues"] = {":rev": {"N": str(move.before.rev)}}
        return {"Put": put}

    def _count(self, after: Progress, counts: dict[str, int]) -> dict[str, Any]:
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        return {
            "Update": {
                "TableName": self._table,
                "Key": dynamo.key(journey_pk(after.journey_id), f"S#{after.version}#{shard_of(after.contact_id)}"),
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {f":c{i}": {"N": str(v)} for i, v in enumerate(counts.values())},
            }
        }

    def held(self, journey_id: str, limit: int, cursor: str | None) -> tuple[Sequence[Progress], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": HELD_INDEX,
            "KeyConditionExpression": "gsi1pk = :h",
            "ExpressionAttributeValues": {":h": {"S": f"HELD#{journey_id}"}},
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"gsi1pk": f"HELD#{journey_id}"})
        page = self._db.query(**query)
        found = [Progress.model_validate_json(dynamo.plain(row)["doc"]) for row in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return found, dynamo.encode_cursor(last) if last else None

    def forget(self, contact_id: str) -> int:
        rows = list(
            dynamo.query_all(
                self._db,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": contact_pk(contact_id)}},
                ProjectionExpression="pk, sk",
            )
        )
        dynamo.batch_delete(self._db, self._table, [dynamo.key(row["pk"], row["sk"]) for row in rows])
        return len(rows)

    # -- counters ----------------------------------------------------------------------------------
    def counts(self, journey_id: str, version: int) -> dict[str, int]:
        total: dict[str, int] = {}
        rows = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": {"S": journey_pk(journey_id)}, ":s": {"S": f"S#{version}#"}},
            ConsistentRead=True,
        )
        for row in rows:
            for name, value in row.items():
                if name not in ("pk", "sk") and isinstance(value, int):
                    total[name] = total.get(name, 0) + value
        return total
