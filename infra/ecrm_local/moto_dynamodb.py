"""moto's DynamoDB, made to hold up under a campaign and at realistic table sizes: transactions
roll back item by item, and a Query reads the partition it names.

moto backs every TransactWriteItems up by deep-copying each table it touches, whole, before it
writes anything, and restores the copies if the transaction is cancelled. Its cost grows with the
table: a campaign writes a send record per recipient in a transaction, so each mail cost more than
the one before, and a 1,000-recipient campaign slowed to a few mails a second. Here the backup is
the items the transaction names (and the length of the table's stream), which is all a cancelled
transaction can have changed. That holds because the local stack serves DynamoDB requests one at a
time (stack._one_request_at_a_time), so nothing else writes between the backup and the rollback.

moto answers a Query by listing and sorting every item of the table (`Table.all_items`), then
keeping those of the partition asked for: each Query cost the whole table, in DynamoType
comparisons, and held the request lock meanwhile, so with 10,000 open cases every request of every
function waited behind each case mailer's or API's read of one case. Here a Query on the table's own
key hands moto only that partition's items (what its filter would have kept, in the same order), and
a Query on an index gets the table's items unsorted, since moto sorts an index's matches by their
full key (index keys, then the table's, unique) anyway. Answers are unchanged: same items, same
order, same pages, same counts.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import threading
from typing import Any

_installed = threading.Lock()
_querying = threading.local()  # the (table, partition key) the Query in this thread reads, if any


def _keys(table: Any, op: dict[str, Any]) -> tuple[Any, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    source = op.get("Key") or op.get("Item")
    if not source or table.hash_key_attr not in source:
        return None
    hash_key = DynamoType(source[table.hash_key_attr])
    range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr in source else None
    return hash_key, range_key


def _backup(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    saved = []
    for entry in transact_items:
        op = next(iter(entry.values()), None)
        table: Any = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        keys = _keys(table, op) if table is not None and isinstance(op, dict) else None
        if keys is not None:
            saved.append((table, *keys, copy.deepcopy(table.get_item(*keys))))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]], streams: dict[int, tuple[Any, int]]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if table.has_range_key:
            if item is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    for shard, length in streams.values():
        del shard.items[length:]


def _install_partition_query() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "partition_only", False):
        return
    real_query, real_all_items = Table.query, Table.all_items
    signature = inspect.signature(real_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        called = signature.bind(self, *args, **kwargs).arguments
        _querying.on = (self, called.get("hash_key"), called.get("index_name"))
        try:
            return real_query(self, *args, **kwargs)
        finally:
            _querying.on = None

    def all_items(self: Any) -> list[Any]:
        on = getattr(_querying, "on", None)
        if on is None or on[0] is not self:
            return real_all_items(self)
        _querying.on = None  # once per Query: anything else it calls sees moto's own listing
        _, hash_key, index_name = on
        if index_name:  # every item, as moto lists them, but unsorted: moto sorts the matches after
            partitions = list(self.items.values())
        else:  # the partition asked for: moto keeps only its items, sorted by sort key, after
            partition = self.items.get(hash_key) if hash_key is not None else None
            partitions = [] if partition is None else [partition]
        if not self.range_key_attr:
            return partitions
        return [item for partition in partitions for item in partition.values()]

    query.partition_only = True  # type: ignore[attr-defined]
    query.originals = (real_query, real_all_items)  # type: ignore[attr-defined]
    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]


def _uninstall_partition_query() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "partition_only", False):
        Table.query, Table.all_items = Table.query.originals  # type: ignore[attr-defined,method-assign]


def install() -> None:
    """Replace moto's whole-table transaction backup and whole-table Query in this process
    (idempotent)."""
    with _installed:
        _install_partition_query()
        models: Any = importlib.import_module("moto.dynamodb.models")
        backend_class = models.DynamoDBBackend
        if getattr(backend_class.transact_write_items, "item_rollback", False):
            return
        real_transact, real_copy = backend_class.transact_write_items, models.copy
        inside = threading.local()

        class _NoTableCopy:
            @staticmethod
            def deepcopy(obj: Any, memo: Any = None) -> Any:
                if getattr(inside, "yes", False) and isinstance(obj, models.Table):
                    return obj  # "restoring" it is a no-op; _restore undoes the items instead
                return real_copy.deepcopy(obj, memo)

        def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved = _backup(self, transact_items)
            streams = {
                id(t.stream_shard): (t.stream_shard, len(t.stream_shard.items))
                for t, *_ in saved
                if t.stream_shard is not None
            }
            inside.yes = True
            try:
                real_transact(self, transact_items)
            except Exception:
                _restore(saved, streams)
                raise
            finally:
                inside.yes = False

        transact.item_rollback = True  # type: ignore[attr-defined]
        transact.originals = (real_transact, real_copy)  # type: ignore[attr-defined]
        models.copy = _NoTableCopy
        backend_class.transact_write_items = transact


def uninstall() -> None:
    """moto's own transactions and Query again (tests that installed these put them back)."""
    with _installed:
        _uninstall_partition_query()
        models: Any = importlib.import_module("moto.dynamodb.models")
        current = models.DynamoDBBackend.transact_write_items
        if getattr(current, "item_rollback", False):
            models.DynamoDBBackend.transact_write_items, models.copy = current.originals
