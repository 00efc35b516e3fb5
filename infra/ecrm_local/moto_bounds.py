"""What moto keeps for as long as the process runs, bounded the way AWS bounds it.

- Every model instance moto ever made: its `BaseModel` appends each new instance to a list on its
  class (`instances_tracked`, read only by moto's `/moto-api/data.json` dump and its reset), so
  every SQS message, stream record, shard iterator, DynamoDB item version and SES message stayed
  reachable after moto itself had dropped it. Here each class keeps its newest `TRACKED`.
- DynamoDB Streams shard iterators: moto keeps every iterator it ever handed out (each with a
  630-character id), and the local stream readers take two per poll, five polls a second per
  stream, traffic or not. AWS expires an iterator after 15 minutes; here the newest
  `ITERATORS` are kept, far more than the readers hold at once (one each).
- DynamoDB Streams records: moto keeps every change of every streamed table. AWS trims a stream
  after 24 hours; here the records the local stream reader has settled are trimmed (`trim_stream`),
  so a record is only dropped once its function has had it. Trimming moves the shard's starting
  sequence number past them, as AWS's trim horizon moves, so sequence numbers stay what they were.
  It takes `REQUESTS`, the lock the local stack serves DynamoDB requests under: a transaction's
  rollback truncates the stream to the length it had before (moto_dynamodb).
- Empty DynamoDB partitions: a table with a sort key keeps its items in a `defaultdict` of
  partitions, and moto's GetItem indexes it, so every read of a key that does not exist (each
  capture's duplicate check, each transaction's backup of a new item) left an empty partition
  behind, as did deleting a partition's last item. Those are dropped after each read and delete.
- SQS deleted receipt handles: each queue keeps every receipt handle of every message it deleted
  (185 characters each), so that deleting one again succeeds. Each queue keeps its newest
  `DELETED_HANDLES`; a receipt handle older than that is long past any visibility timeout here.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from ecrm_local.lambdas import ACCOUNT, REGION

ITERATORS = 1000
DELETED_HANDLES = 10_000
TRACKED = 100
REQUESTS = threading.Lock()  # held while moto serves one DynamoDB request (stack._one_request_at_a_time)


class _Newest(dict[str, Any]):
    """A dict that forgets its oldest entries past `limit` (insertion order is age)."""

    def __init__(self, items: dict[str, Any], limit: int) -> None:
        super().__init__(items)
        self.limit = limit

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > self.limit:
            del self[next(iter(self))]


def _track_newest() -> None:
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "newest_only", False):
        return

    def new(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, deque):
            tracked = deque(tracked or (), maxlen=TRACKED)
            cls.instances_tracked = tracked
        tracked.append(instance)
        return instance

    new.newest_only = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


class _Recent(set[str]):
    """A set that forgets its oldest members past `limit` (moto's `Queue.deleted_messages`)."""

    def __init__(self, members: Any = (), limit: int = DELETED_HANDLES) -> None:
        super().__init__()
        self.limit = limit
        self._order: deque[str] = deque()
        self.update(members)

    def add(self, member: str) -> None:
        if member not in self:
            super().add(member)
            self._order.append(member)
            while len(self._order) > self.limit:
                self.discard(self._order.popleft())

    def update(self, *others: Any) -> None:
        for other in others:
            for member in other:
                self.add(member)


def _recent_deleted_handles() -> None:
    from moto.sqs.models import Queue

    real = Queue.__init__
    if getattr(real, "recent_only", False):
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        self.deleted_messages = _Recent(self.deleted_messages)

    init.recent_only = True  # type: ignore[attr-defined]
    Queue.__init__ = init  # type: ignore[method-assign]


def _drop_empty_partitions() -> None:
    from moto.dynamodb.models.table import Table

    for name in ("get_item", "delete_item"):
        real = getattr(Table, name)
        if getattr(real, "drops_empty", False):
            continue

        def call(self: Any, hash_key: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            try:
                return _real(self, hash_key, *args, **kwargs)
            finally:
                if self.range_key_attr and not self.items.get(hash_key, True):
                    del self.items[hash_key]

        call.drops_empty = True  # type: ignore[attr-defined]
        setattr(Table, name, call)


def install() -> None:
    """Bound moto's instance tracking, shard iterators, empty partitions and deleted receipt
    handles in this process (idempotent)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    _track_newest()
    _drop_empty_partitions()
    _recent_deleted_handles()
    backend = dynamodbstreams_backends[ACCOUNT][REGION]
    if not isinstance(backend.shard_iterators, _Newest):
        backend.shard_iterators = _Newest(backend.shard_iterators, ITERATORS)


def trim_stream(stream_arn: str, settled: dict[str, str]) -> int:
    """Drop the records of `stream_arn` up to each shard's settled sequence number; how many."""
    from moto.dynamodb.models import dynamodb_backends

    with REQUESTS:
        table_name = stream_arn.split(":", 6)[5].split("/")[1]  # arn:...:table/<name>/stream/<label>
        table = dynamodb_backends[ACCOUNT][REGION].tables.get(table_name)
        shard: Any = table.stream_shard if table is not None else None
        if shard is None or shard.id not in settled:
            return 0
        drop: int = min(len(shard.items), int(settled[shard.id]) - shard.starting_sequence_number + 1)
        if drop <= 0:
            return 0
        del shard.items[:drop]
        shard.starting_sequence_number += drop
        return drop
