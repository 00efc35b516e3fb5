"""Templates, segments, campaigns, their runs and stats in the Campaigns table (key design in
docs/campaigns.md). Entities are stored as one JSON document with a `version` beside it for the
optimistic lock; the counters live on sharded `STATS#<n>` items that change in the same transaction
as whatever they count."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.adapters.dynamo import Item
from ecrm.campaigns.models import Campaign, CampaignStats, Counts, RunStage, Segment, Stage, Template
from ecrm.campaigns.ports import BatchProgress
from ecrm.clock import SYSTEM_CLOCK, Clock
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox
from ecrm.types import STORED

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

E = TypeVar("E", Template, Segment, Campaign)

STATS_SHARDS = 16  # counters of one campaign spread over this many items (hot-item writes / shards)
BATCH_MARKER_TTL = timedelta(days=14)  # longer than any message stays on the send queue


def _time_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


# -- stats -------------------------------------------------------------------------------------


def shard_of(text: str) -> int:
    """A stable shard for a contact id (hex) or a batch number."""
    return int(text[-4:], 16) % STATS_SHARDS if text else 0


def stats_update(
    table: str, campaign_id: str, shard: int, changes: Mapping[str, int], variant: int | None = None
) -> Item:
    """A transaction item adding `changes` (counter -> delta) to one stats shard, in total and for
    the A/B variant if any. Attributes are flat (`t_sent`, `v1_sent`): ADD cannot reach into a map
    that does not exist yet."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    parts = []
    for i, (counter, delta) in enumerate(sorted(changes.items())):
        vals[f":d{i}"] = delta
        names[f"#t{i}"] = f"t_{counter}"
        parts.append(f"#t{i} :d{i}")
        if variant is not None:
            names[f"#v{i}"] = f"v{variant}_{counter}"
            parts.append(f"#v{i} :d{i}")
    return {
        "Update": {
            "TableName": table,
            "Key": dynamo.key(campaign_pk(campaign_id), f"STATS#{shard:02d}"),
            "UpdateExpression": "ADD " + ", ".join(parts),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.values(vals),
        }
    }


class DynamoStats:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def get(self, campaign_id: str) -> CampaignStats:
        total: dict[str, int] = {}
        variants: dict[int, dict[str, int]] = {}
        shards = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues=dynamo.values({":pk": campaign_pk(campaign_id), ":s": "STATS#"}),
            ConsistentRead=True,
        )
        for shard in shards:
            for name, count in shard.items():
                _add(name, int(count) if isinstance(count, int | float) else 0, total, variants)
        return CampaignStats(
            campaign_id=campaign_id,
            total=Counts(**total),
            variants={v: Counts(**c) for v, c in sorted(variants.items())},
        )


def _add(name: str, count: int, total: dict[str, int], variants: dict[int, dict[str, int]]) -> None:
    prefix, _, counter = name.partition("_")
    if counter not in Counts.model_fields:
        return
    if prefix == "t":
        total[counter] = total.get(counter, 0) + count
    elif prefix.startswith("v") and prefix[1:].isdigit():
        bucket = variants.setdefault(int(prefix[1:]), {})
        bucket[counter] = bucket.get(counter, 0) + count


# -- templates, segments, campaigns --------------------------------------------------------------


class DynamoRepository(Generic[E]):
    """One item per entity: `<KIND>#<id>` / `<KIND>`, listed newest first on gsi1 (`<KINDS>`)."""

    def __init__(
        self, client: DynamoDBClient, table: str, model: type[E], kind: str, outbox: Outbox | None = None
    ) -> None:
        self._db = client
        self._table = table
        self._outbox = outbox  # where saves commit their events (repositories that announce nothing leave it out)
        self._model: type[E] = model
        self._kind = kind
        self._listing = f"{kind}S"

    def get(self, entity_id: str) -> E | None:
        found = self._db.get_item(
            TableName=self._table, Key=dynamo.key(f"{self._kind}#{entity_id}", self._kind), ConsistentRead=True
        ).get("Item")
        return self._entity(dynamo.plain(found)) if found else None

    def create(self, entity: E) -> None:
        try:
            self._write([self._put(entity, "attribute_not_exists(pk)", {})], entity)
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise AlreadyExists(entity.id) from exc
            raise

    def save(self, entity: E, expected_version: int, events: Sequence[DomainEvent] = ()) -> None:
        try:
            self._write([self._put(entity, "version = :v", {":v": expected_version}), *self._events(events)], entity)
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict(f"{self._kind.lower()} {entity.id} is no longer at version {expected_version}") from exc
            raise

    def list(self, limit: int, cursor: str | None) -> tuple[builtins.list[E], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :l",
            "ExpressionAttributeValues": dynamo.values({":l": self._listing}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = dynamo.decode_cursor(cursor, {"gsi1pk": self._listing})
        page = self._db.query(**query)
        last = page.get("LastEvaluatedKey")
        items = [self._entity(dynamo.plain(i)) for i in page.get("Items", [])]
        return items, dynamo.encode_cursor(last) if last else None

    # -- helpers -------------------------------------------------------------------------------
    def _write(self, items: builtins.list[Item], entity: E) -> None:
        """The entity's put first (condition failures are read off it), then what goes with it."""
        extra: builtins.list[Item] = self._alongside(entity)
        if extra or len(items) > 1:
            dynamo.transact(self._db, [*items, *extra])
        else:
            put = items[0]["Put"]
            self._db.put_item(**put)

    def _events(self, events: Sequence[DomainEvent]) -> builtins.list[Item]:
        return outbox.puts(self._outbox, events, f"the {self._kind.lower()} repository")

    def _alongside(self, entity: E) -> builtins.list[Item]:
        """Items written in the same transaction as the entity (campaigns: their trigger item)."""
        return []

    def _put(self, entity: E, condition: str, condition_values: dict[str, Any]) -> Item:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": dynamo.item(
                {
                    "pk": f"{self._kind}#{entity.id}",
                    "sk": self._kind,
                    "doc": entity.model_dump_json(),
                    "version": entity.version,
                    "gsi1pk": self._listing,
                    "gsi1sk": f"{_time_key(entity.created_at)}#{entity.id}",
                }
            ),
            "ConditionExpression": condition,
        }
        if condition_values:
            put["ExpressionAttributeValues"] = dynamo.values(condition_values)
        return {"Put": put}

    def _entity(self, stored: dict[str, Any]) -> E:
        return self._model.model_validate_json(stored["doc"], context=STORED)


class DynamoCampaigns(DynamoRepository[Campaign]):
    """Campaigns, and a `TRIGGER#<detail type>` / `<campaign id>` item per live triggered campaign,
    written or deleted in the same transaction as the campaign."""

    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        super().__init__(client, table, Campaign, "CAMPAIGN", outbox)

    def _alongside(self, entity: Campaign) -> list[Item]:
        schedule = entity.schedule
        if schedule.kind != "triggered":
            return []
        key = dynamo.key(f"TRIGGER#{schedule.detail_type}", entity.id)
        if entity.status == "sending":
            return [{"Put": {"TableName": self._table, "Item": {**key, "campaign_id": {"S": entity.id}}}}]
        return [{"Delete": {"TableName": self._table, "Key": key}}]

    def live_triggered(self, detail_type: str) -> list[Campaign]:
        ids = [
            str(i["sk"])
            for i in dynamo.query_all(
                self._db,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=dynamo.values({":pk": f"TRIGGER#{detail_type}"}),
            )
        ]
        keys = [dynamo.key(f"CAMPAIGN#{i}", "CAMPAIGN") for i in ids]
        found = [self._entity(i) for i in dynamo.batch_get(self._db, self._table, keys, consistent=True)]
        return sorted((c for c in found if c.status == "sending"), key=lambda c: c.id)


# -- runs ----------------------------------------------------------------------------------------

_STORE_KEPT = {"done", "version", "epoch"}  # attributes of their own beside the document


class DynamoRuns:
    """`CAMPAIGN#<id>` / `RUN#<run>#<stage>`: the planner's checkpoint (document) with `done`,
    `epoch` and `version` as attributes of their own (the senders count `done`; conditions read
    `epoch` and `version`); `BATCH#<run>#<stage>#<epoch>#<batch>` markers of completed batches."""

    def __init__(self, client: DynamoDBClient, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._db = client
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(campaign_id: str, run_id: str, stage: Stage) -> Item:
        return dynamo.key(campaign_pk(campaign_id), f"RUN#{run_id}#{stage}")

    def get(self, campaign_id: str, run_id: str, stage: Stage) -> RunStage | None:
        found = self._db.get_item(
            TableName=self._table, Key=self._key(campaign_id, run_id, stage), ConsistentRead=True
        ).get("Item")
        if not found:
            return None
        stored = dynamo.plain(found)
        return RunStage.model_validate_json(stored["doc"]).model_copy(update={k: int(stored[k]) for k in _STORE_KEPT})

    def create(self, stage: RunStage) -> bool:
        try:
            self._db.put_item(
                TableName=self._table, Item=self._item(stage), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def _item(self, stage: RunStage) -> Item:
        return {
            **self._key(stage.campaign_id, stage.run_id, stage.stage),
            **dynamo.item({k: getattr(stage, k) for k in _STORE_KEPT}),
            "doc": {"S": _doc(stage)},
        }

    def advance(self, stage: RunStage, expected_version: int, newly_targeted: int) -> None:
        update: Item = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(stage.campaign_id, stage.run_id, stage.stage),
                "UpdateExpression": "SET doc = :d, version = :nv",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": dynamo.values(
                    {":d": _doc(stage), ":nv": expected_version + 1, ":v": expected_version}
                ),
            }
        }
        items = [update]
        if newly_targeted:
            shard = shard_of(f"{stage.batches:04x}")
            items.append(stats_update(self._table, stage.campaign_id, shard, {"targeted": newly_targeted}))
        self._run(items, "run stage moved on")

    def restart(self, stage: RunStage, expected_version: int) -> RunStage:
        current = self.get(stage.campaign_id, stage.run_id, stage.stage)
        if current is None or current.version != expected_version:
            raise Conflict("run stage moved on")
        fresh = current.restarted()
        update: Item = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(stage.campaign_id, stage.run_id, stage.stage),
                "UpdateExpression": "SET doc = :d, version = :nv, epoch = :e, done = :zero",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": dynamo.values(
                    {":d": _doc(fresh), ":nv": fresh.version, ":e": fresh.epoch, ":zero": 0, ":v": expected_version}
                ),
            }
        }
        items = [update]
        if current.targeted:
            items.append(stats_update(self._table, stage.campaign_id, 0, {"targeted": -current.targeted}))
        self._run(items, "run stage moved on")
        return fresh

    def complete_batch(self, campaign_id: str, run_id: str, stage: Stage, epoch: int, batch: str) -> BatchProgress:
        """One transaction: the batch's marker (put if absent) and +1 `done` (if the epoch is still
        the stage's). A redelivered batch, or one from before a restart, changes nothing."""
        marker = dynamo.item(
            {
                "pk": campaign_pk(campaign_id),
                "sk": f"BATCH#{run_id}#{stage}#{epoch}#{batch}",
                "expires_at": int((self._clock.now() + BATCH_MARKER_TTL).timestamp()),
            }
        )
        items: list[Item] = [
            {"Put": {"TableName": self._table, "Item": marker, "ConditionExpression": "attribute_not_exists(pk)"}},
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(campaign_id, run_id, stage),
                    "UpdateExpression": "ADD done :one",
                    "ConditionExpression": "epoch = :e",
                    "ExpressionAttributeValues": dynamo.values({":one": 1, ":e": epoch}),
                }
            },
        ]
        try:
            dynamo.transact(self._db, items)
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
        current = self.get(campaign_id, run_id, stage)
        if current is None:
            return BatchProgress(done=0, finished=False)
        return BatchProgress(done=current.done, finished=current.finished)

    def _run(self, items: list[Item], conflict: str) -> None:
        try:
            dynamo.transact(self._db, items)
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict(conflict) from exc
            raise


def _doc(stage: RunStage) -> str:
    return stage.model_dump_json(exclude=_STORE_KEPT)
