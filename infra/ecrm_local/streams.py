"""DynamoDB Streams -> functions, as Lambda's event source mapping does it: each shard read in order,
INSERT records only (the topology's filter), batches of the trigger's size as real stream events,
and a batch read again from the record the function reports failed (or whole, if it raised)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from ecrm_infra import topology

from ecrm_local import LOG_NAME, lambdas, moto_bounds, resources

if TYPE_CHECKING:
    from boto3.session import Session

log = logging.getLogger(f"{LOG_NAME}.streams")
POLL_SECONDS = 0.2
Invoke = Callable[[str, dict[str, Any]], Any]


def stream_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    """GetRecords' records in the shape Lambda hands a function (epoch seconds, source ARN, region)."""
    shaped = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        shaped.append(
            {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": dynamodb, "awsRegion": region,
             "eventSourceARN": stream_arn}
        )  # fmt: skip
    return {"Records": shaped}


class StreamReader:
    """One table's stream feeding one function. `drain()` hands over everything committed so far."""

    def __init__(
        self, session: Session, trigger: topology.StreamTrigger, fn: topology.Function, invoke: Invoke
    ) -> None:
        # moto answers on the regional endpoint; botocore would otherwise use the account-based one.
        self._streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        table = session.client("dynamodb").describe_table(TableName=resources.physical_name(trigger.table))
        self._arn: str = table["Table"]["LatestStreamArn"]
        self._region = session.region_name
        self._trigger, self._fn, self._invoke = trigger, fn, invoke
        self._after: dict[str, str | None] = {}  # shard -> last sequence number handed over and settled
        self._lock = threading.Lock()

    @property
    def stream_arn(self) -> str:
        return self._arn

    def settled(self) -> dict[str, str]:
        """Each shard's last sequence number handed over and settled."""
        with self._lock:
            return {shard: after for shard, after in self._after.items() if after}

    def drain(self, stop: threading.Event | None = None) -> int:
        """Every record committed so far, handed to the function until it settles them: the number
        of records handed over (a record retried counts again). Once `stop` is set no further batch
        is handed over; what is not settled stays on the stream for the next drain."""
        with self._lock:
            shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
            return sum(self._drain_shard(shard["ShardId"], stop) for shard in shards)

    def _drain_shard(self, shard: str, stop: threading.Event | None) -> int:
        handed = 0
        for _ in range(1000):  # a function failing forever is Lambda's retry limit here
            if stop is not None and stop.is_set():
                return handed
            records = self._records(shard, stop)
            if not records:
                return handed
            handed += len(records)
            self._settle(shard, records)
        raise RuntimeError(f"{self._fn.name} kept failing records of {self._arn}")

    def _records(self, shard: str, stop: threading.Event | None) -> list[dict[str, Any]]:
        """The next batch of INSERT records; batches of nothing else (the REMOVEs TTL makes) are
        passed over as the event source mapping's filter does, until there are none or a stop."""
        while not (stop is not None and stop.is_set()):
            after = self._after.get(shard)
            where: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard, **where)["ShardIterator"]
            records: list[dict[str, Any]] = self._streams.get_records(
                ShardIterator=iterator, Limit=self._trigger.batch_size
            )["Records"]
            inserts = [r for r in records if r["eventName"] == "INSERT"]
            if inserts or not records:
                return inserts
            self._after[shard] = records[-1]["dynamodb"]["SequenceNumber"]
        return []

    def _settle(self, shard: str, records: list[dict[str, Any]]) -> None:
        try:
            answer = self._invoke(self._fn.name, stream_event(records, self._arn, self._region))
        except Exception:  # as in Lambda: the whole batch is read again
            log.exception("%s raised; %d stream record(s) will be read again", self._fn.name, len(records))
            return
        failures = (answer or {}).get("batchItemFailures") or [] if isinstance(answer, dict) else []
        failed = {str(f.get("itemIdentifier")) for f in failures}
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        first_failed = next((i for i, s in enumerate(sequence) if s in failed), None)
        if first_failed is None:
            self._after[shard] = sequence[-1]
        elif first_failed > 0:
            self._after[shard] = sequence[first_failed - 1]


def readers(session: Session, invoke: Invoke = lambdas.invoke) -> list[StreamReader]:
    return [StreamReader(session, trigger, fn, invoke) for trigger, fn in topology.stream_triggers()]


class StreamPoller(threading.Thread):
    """Drains one reader every POLL_SECONDS; what it settled leaves moto's stream (moto_bounds)."""

    def __init__(self, reader: StreamReader, stop: threading.Event) -> None:
        super().__init__(name="stream-poller", daemon=True)
        self._reader, self._stopping = reader, stop

    def run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self._reader.drain(self._stopping)
                moto_bounds.trim_stream(self._reader.stream_arn, self._reader.settled())
            except Exception:  # a broken poll must not kill the stack: log it and keep polling
                log.exception("reading a stream failed")


def start_stream_pollers(session: Session, stop: threading.Event) -> list[StreamPoller]:
    pollers = [StreamPoller(reader, stop) for reader in readers(session)]
    for poller in pollers:
        poller.start()
    return pollers
