"""moto's DynamoDB, made to hold up under a campaign: transactions roll back item by item.

moto backs every TransactWriteItems up by deep-copying each table it touches, whole, before it
writes anything, and restores the copies if the transaction is cancelled. Its cost grows with the
table: a campaign writes a send record per recipient in a transaction, so each mail cost more than
the one before, and a 1,000-recipient campaign slowed to a few mails a second. Here the backup is
the items the transaction names (and the length of the table's stream), which is all a cancelled
transaction can have changed. That holds because the local stack serves DynamoDB requests one at a
time (stack._one_request_at_a_time), so nothing else writes between the backup and the rollback.
"""

from __future__ import annotations

import copy
import importlib
import threading
from typing import Any

_installed = threading.Lock()


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


def install() -> None:
    """Replace moto's whole-table transaction backup in this process (idempotent)."""
    with _installed:
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
    """moto's own transactions again (tests that installed this one put it back)."""
    with _installed:
        models: Any = importlib.import_module("moto.dynamodb.models")
        current = models.DynamoDBBackend.transact_write_items
        if getattr(current, "item_rollback", False):
            models.DynamoDBBackend.transact_write_items, models.copy = current.originals
