"""Send batches onto an SQS queue, ten per SendMessageBatch, failed entries sent again."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ecrm.errors import PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10


class SqsQueue:
    """The SendQueue port (and any queue of pydantic messages): bodies are the models' JSON."""

    def __init__(
        self, client: SQSClient, url: str, attempts: int = 4, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._sqs = client
        self._url = url
        self._attempts = attempts
        self._sleep = sleep

    def enqueue(self, messages: Sequence[BaseModel]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            self._send([m.model_dump_json() for m in messages[start : start + MAX_BATCH]])

    def _send(self, bodies: list[str]) -> None:
        pending = {str(i): body for i, body in enumerate(bodies)}
        for attempt in range(self._attempts):
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url, Entries=[{"Id": i, "MessageBody": b} for i, b in pending.items()]
            )
            pending = {f["Id"]: pending[f["Id"]] for f in answer.get("Failed", []) if not f.get("SenderFault")}
            failed_by_us = [f for f in answer.get("Failed", []) if f.get("SenderFault")]
            if failed_by_us:
                raise PublishFailed(f"SQS refused {len(failed_by_us)} message(s): {failed_by_us[0].get('Code')}")
            if not pending:
                return
            self._sleep(0.05 * 2**attempt)
        raise PublishFailed(f"{len(pending)} message(s) still not on the queue after {self._attempts} attempts")
