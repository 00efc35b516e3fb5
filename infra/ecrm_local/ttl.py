"""DynamoDB TTL, locally: moto records each table's TTL setting but never deletes an expired item,
so every table the topology declares with a TTL attribute (all of them; the Outbox's rows, the
campaigns' SES event records and batch markers, the cases' message references carry one) grew for
as long as `ecrm local` ran.

The sweeper does what DynamoDB's TTL process does, on the local clock (`POST /_local/clock` moves
it, so advancing a day expires what a day expires in AWS): an item whose TTL attribute is a Number
of epoch seconds at or before now, and not more than five years before (DynamoDB ignores those),
is deleted. The deletion reaches the table's stream as a REMOVE record carrying TTL's
`userIdentity` (the DynamoDB service), which the relay's INSERT filter drops as in AWS.

The Outbox's rows live a week (`ecrm.outbox.RETENTION`) so that a redrive from the relay's DLQ can
still find them; locally nothing redrives, and the relay reads the stream record's image, never
the row, so a row expires `--outbox-retention` (default `OUTBOX_RETENTION`) after it was written:
the local Outbox holds the last minute of events, not a week of them.

Each table is swept under `moto_bounds.REQUESTS`, the lock moto's DynamoDB requests are served
under, as DynamoDB applies a TTL delete between requests, never inside one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ecrm_local import LOG_NAME

log = logging.getLogger(f"{LOG_NAME}.ttl")
SWEEP_SECONDS = 5.0
OUTBOX_RETENTION = timedelta(minutes=1)
IGNORED_AFTER = timedelta(days=5 * 365)  # DynamoDB leaves items expired longer ago than this
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}  # GetRecords' shape


def earlier_by(outbox_retention: timedelta) -> dict[str, timedelta]:
    """How much earlier than its TTL attribute says an item of each physical table expires here."""
    from ecrm.names import Resource
    from ecrm.outbox import RETENTION

    from ecrm_local import resources

    return {resources.physical_name(Resource.OUTBOX_TABLE): max(RETENTION - outbox_retention, timedelta(0))}


def sweep(now: datetime, earlier: Mapping[str, timedelta] | None = None) -> int:
    """Delete every item expired at `now` from every table with TTL enabled; how many."""
    from moto.dynamodb.models import dynamodb_backends

    from ecrm_local import moto_bounds
    from ecrm_local.lambdas import ACCOUNT, REGION

    deleted = 0
    for name in list(dynamodb_backends[ACCOUNT][REGION].tables):
        with moto_bounds.REQUESTS:
            table = dynamodb_backends[ACCOUNT][REGION].tables.get(name)
            if table is not None and table.ttl.get("TimeToLiveStatus") == "ENABLED":
                shift = (earlier or {}).get(name, timedelta(0))
                deleted += _sweep_table(table, table.ttl["AttributeName"], now + shift)
    return deleted


def _sweep_table(table: Any, attribute: str, now: datetime) -> int:
    cutoff, floor = now.timestamp(), (now - IGNORED_AFTER).timestamp()
    expired = [item for item in _items(table) if floor <= (_epoch(item.attrs.get(attribute)) or -1.0) <= cutoff]
    for item in expired:
        table.delete_item(item.hash_key, item.range_key)
        shard = table.stream_shard
        if shard is not None and shard.items:
            shard.items[-1].record["userIdentity"] = dict(TTL_IDENTITY)
    return len(expired)


def _items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def _epoch(value: Any) -> float | None:
    """A TTL attribute's epoch seconds; None unless it is a Number, as DynamoDB reads it."""
    if value is None or value.type != "N":
        return None
    try:
        return float(value.value)
    except ValueError:
        return None


class Sweeper(threading.Thread):
    """Sweeps every SWEEP_SECONDS until stopped; a failed sweep is logged and the next one tried."""

    def __init__(self, now: Callable[[], datetime], earlier: Mapping[str, timedelta], stop: threading.Event) -> None:
        super().__init__(name="ttl-sweeper", daemon=True)
        self._now, self._earlier, self._stopping = now, earlier, stop

    def run(self) -> None:
        while not self._stopping.wait(SWEEP_SECONDS):
            try:
                sweep(self._now(), self._earlier)
            except Exception:  # keep sweeping; an expired item only waits for the next sweep
                log.exception("expiring TTL items failed")


def start_sweeper(now: Callable[[], datetime], earlier: Mapping[str, timedelta], stop: threading.Event) -> Sweeper:
    sweeper = Sweeper(now, earlier, stop)
    sweeper.start()
    return sweeper
