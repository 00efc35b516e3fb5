"""SQS event source mappings: one thread per queue trigger, real SQS batch events, partial failures."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from ecrm_infra import topology

from ecrm_local import LOG_NAME, lambdas, resources

if TYPE_CHECKING:
    from boto3.session import Session

log = logging.getLogger(f"{LOG_NAME}.pollers")
WAIT_SECONDS = 1  # long poll, short enough that stopping never waits long


def _message_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """SQS API shape (StringValue, DataType) -> the Lambda event shape (stringValue, dataType, ...)."""
    out = {}
    for name, attr in attrs.items():
        out[name] = {
            "stringValue": attr.get("StringValue"),
            "binaryValue": attr.get("BinaryValue"),
            "stringListValues": attr.get("StringListValues", []),
            "binaryListValues": attr.get("BinaryListValues", []),
            "dataType": attr.get("DataType"),
        }
    return out


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": _message_attributes(m.get("MessageAttributes", {})),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def settled(messages: list[dict[str, Any]], result: Any) -> list[dict[str, Any]]:
    """The messages to delete: all but those the function reported in `batchItemFailures`."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    failed = {f.get("itemIdentifier") for f in failures or ()}
    return [m for m in messages if m["MessageId"] not in failed]


class QueuePoller(threading.Thread):
    """One queue's event source mapping: a batch per long poll. The stop flag is read between
    batches and after each receive, never inside an invocation: a batch is invoked and settled
    whole, or handed back to the queue unprocessed."""

    def __init__(self, session: Session, fn: topology.Function, stop: threading.Event) -> None:
        assert fn.queue is not None
        super().__init__(name=f"poller-{fn.name}", daemon=True)
        self._fn, self._trigger, self._stopping = fn, fn.queue, stop
        self._sqs = session.client("sqs")
        self._region = session.region_name
        self._url = resources.queue_url(session, fn.queue.queue)
        self._arn = resources.queue_arn(session, self._url)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # a broken poll must not kill the stack: log it and keep polling
                log.exception("polling %s failed", self._url)
                self._stopping.wait(1)

    def poll_once(self) -> int:
        messages: list[dict[str, Any]] = self._sqs.receive_message(  # type: ignore[assignment]
            QueueUrl=self._url,
            MaxNumberOfMessages=min(self._trigger.batch_size, 10),
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        if self._stopping.is_set():  # stopping during the long poll: hand them back, unprocessed
            self._release(messages)
            return 0
        try:
            result = lambdas.invoke(self._fn.name, sqs_event(messages, self._arn, self._region))
        except Exception:  # as in Lambda: the whole batch returns to the queue and is retried
            log.exception("%s raised; %d message(s) will be retried", self._fn.name, len(messages))
            return len(messages)
        done = settled(messages, result)
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Make received messages visible again now, as if their visibility timeout had passed."""
        self._sqs.change_message_visibility_batch(
            QueueUrl=self._url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages)
            ],
        )


def start_pollers(session: Session, stop: threading.Event) -> list[QueuePoller]:
    pollers = [QueuePoller(session, fn, stop) for fn in topology.FUNCTIONS if fn.queue]
    for poller in pollers:
        poller.start()
    return pollers
