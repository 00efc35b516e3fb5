"""One skeleton for every SQS consumer: batch policy, message parsing, outcome metrics.

Modelled on Powertools idempotency: a thin decorator (`consumer`) over one orchestrator
(`QueueConsumer`) whose hooks are a parser (`model`, `event`, `envelope`, `json_object`), the
record handler, and optionally extra exception → outcome names. A handler module holds its record
handler only:

    @consumer(model(SendBatch), name="SendBatch")
    def send(batch: SendBatch, context: LambdaContext) -> str: ...

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event, context):
        return send.batch(event, context)

Batch policy: Powertools `BatchProcessor` and `process_partial_response` with
`raise_on_entire_batch_failure=False` (decision 43): a failed record is reported in
`batchItemFailures` and comes again, also when every record of the batch failed.

Concurrency (`consumer(..., concurrent=True)`): the batch's records run at once, each in a thread
(Powertools `AsyncBatchProcessor`), for record handlers that wait on others (the webhooks' POSTs:
one slow receiver must not hold the rest of its batch). Outcomes are still counted once each, by
the event loop's thread after the record's thread is done (Powertools' metric set takes no lock).

Metrics: exactly one count per record, `<name><Outcome>` (`ShopEventApplied`, `ShopEventMalformed`).
The record handler returns its outcome (None: `Done`); a failure's outcome comes from its exception:
`Malformed` (a message that can never succeed: `InvalidInput`, pydantic's `ValidationError`; it is
retried until the redrive policy parks it in the DLQ), `Retried` (`RetryLater`: routine, e.g.
throttled), `Unavailable`, `Conflict`, else `Failed`.
"""

from __future__ import annotations

import asyncio
import json
import re
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    EventType,
    async_process_partial_response,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecrm.errors import Conflict, InvalidInput, Unavailable
from ecrm.model import Model
from ecrm.observability import logger, metrics

M = TypeVar("M")
E = TypeVar("E", bound=BaseModel)
Parser = Callable[[str], M]
RecordHandler = Callable[[M, LambdaContext], str | None]


class Unprocessable(InvalidInput):
    """A message that can never succeed: it fails each receive and ends in the DLQ. `field` is a
    dotted path; `message` says what is wrong, never the value (it may be personal)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message, status=422)


class RetryLater(Exception):
    """The record must come again (throttled, paused, out of time): routine, logged at info."""


def _fields(exc: ValidationError, within: tuple[str, ...] = ()) -> Unprocessable:
    """pydantic's messages may quote the input (an e-mail address): keep where and which rule."""
    errors = exc.errors()
    field = ", ".join(".".join(map(str, (*within, *e["loc"]))) or "body" for e in errors)
    return Unprocessable(field or "body", ", ".join(sorted({e["type"] for e in errors})) or "invalid")


# --- parsers (the hook that turns a body into the record handler's input) -----------------------
def model(cls: type[E]) -> Parser[E]:
    """A plain JSON body as the pydantic model `cls`."""

    def parse(body: str) -> E:
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            raise _fields(exc) from None

    return parse


def json_object(body: str) -> dict[str, Any]:
    """A body that must be a JSON object; its reader validates the rest."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        value = None
    if not isinstance(value, dict):
        raise Unprocessable("body", "not a JSON object")
    return value


class Envelope(Model):
    """EventBridge's envelope, its `detail` left for the domain to read."""

    model_config = ConfigDict(populate_by_name=True)

    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]
    source: str = ""
    id: str = ""
    time: datetime | None = None


envelope: Parser[Envelope] = model(Envelope)


def event(registry: Mapping[str, type[E]]) -> Parser[E]:
    """An EventBridge envelope whose `detail` becomes the versioned event type its `detail-type`
    names in `registry`; a type not in it is Unprocessable."""

    def parse(body: str) -> E:
        outer = envelope(body)
        cls = registry.get(outer.detail_type)
        if cls is None:
            raise Unprocessable("detail-type", "not an event this consumer reads")
        try:
            return cls.model_validate(outer.detail)
        except ValidationError as exc:
            raise _fields(exc, ("detail",)) from None

    return parse


# --- the orchestrator ----------------------------------------------------------------------------
FAILURES: dict[type[BaseException], str] = {
    InvalidInput: "Malformed",
    ValidationError: "Malformed",
    RetryLater: "Retried",
    Unavailable: "Unavailable",
    Conflict: "Conflict",
}


def _pascal(outcome: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", outcome) if part)


class QueueConsumer(Generic[M]):
    """Parses each record, calls the record handler, counts and logs its outcome; the batch is
    answered with the failed records (Powertools' partial batch response)."""

    def __init__(
        self,
        handler: RecordHandler[M],
        parse: Parser[M],
        name: str,
        failures: Mapping[type[BaseException], str] | None = None,
        concurrent: bool = False,
    ) -> None:
        self.handler = handler
        self._parse = parse
        self.name = name
        self._label = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()  # "ShopEvent" -> "shop event"
        extra = dict(failures or {})  # looked up first: a consumer's own names win
        self._failures = extra | {kind: name for kind, name in FAILURES.items() if kind not in extra}
        self._processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.concurrent = concurrent  # public: the bench compares a batch in order and at once
        self._async_processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def batch(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        if self.concurrent:
            return async_process_partial_response(
                event=event, record_handler=self._in_thread, processor=self._async_processor, context=context
            )
        return process_partial_response(
            event=event, record_handler=self.record, processor=self._processor, context=context
        )

    def record(self, record: SQSRecord, lambda_context: LambdaContext) -> None:
        try:
            outcome = self._handled(record, lambda_context)
        except Exception as exc:
            self._count(self.outcome_of(exc))
            raise
        self._count(outcome)

    async def _in_thread(self, record: SQSRecord, lambda_context: LambdaContext) -> None:
        try:
            outcome = await asyncio.to_thread(self._handled, record, lambda_context)
        except Exception as exc:
            self._count(self.outcome_of(exc))
            raise
        self._count(outcome)

    def _handled(self, record: SQSRecord, lambda_context: LambdaContext) -> str:
        """The record handler's outcome; a failure is logged here and raised."""
        try:
            return self.handler(self._parse(record.body), lambda_context) or "Done"
        except Exception as exc:
            self._failed(exc, record.message_id)
            raise

    def outcome_of(self, exc: BaseException) -> str:
        return next((name for kind, name in self._failures.items() if isinstance(exc, kind)), "Failed")

    def _failed(self, exc: Exception, message_id: str) -> None:
        outcome = self.outcome_of(exc)
        if isinstance(exc, ValidationError):
            exc = _fields(exc)
        if isinstance(exc, InvalidInput):  # our own words: where and why, never the value
            logger.warning(f"malformed {self._label}", field=exc.field, reason=exc.message, message_id=message_id)
        elif isinstance(exc, RetryLater):
            logger.info(f"{self._label} comes again", reason=str(exc), message_id=message_id)
        else:  # the type and where it was raised: an unexpected error's text may carry a value
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
            logger.warning(
                f"{self._label} failed", outcome=outcome, error=type(exc).__name__, at=where, message_id=message_id
            )

    def _count(self, outcome: str) -> None:
        metrics.add_metric(name=f"{self.name}{_pascal(outcome)}", unit=MetricUnit.Count, value=1)


def consumer(
    parse: Parser[M],
    *,
    name: str,
    failures: Mapping[type[BaseException], str] | None = None,
    concurrent: bool = False,
) -> Callable[[RecordHandler[M]], QueueConsumer[M]]:
    """Decorate a record handler `(message, lambda_context) -> outcome | None` into a consumer;
    `name` prefixes its outcome metrics and names its log lines; `concurrent` runs a batch's
    records at once, each in a thread."""

    def wrap(handler: RecordHandler[M]) -> QueueConsumer[M]:
        return QueueConsumer(handler, parse, name, failures, concurrent)

    return wrap
