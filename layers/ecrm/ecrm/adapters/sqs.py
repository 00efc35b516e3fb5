"""Any queue of pydantic messages: bodies are the models' JSON, ten per SendMessageBatch, entries
that failed on SQS's side sent again with backoff, then a clear error (PublishFailed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ecrm.errors import PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

MAX_BATCH = 10
MAX_DELAY_SECONDS = 900  # SQS's maximum


class SqsQueue:
    """The campaigns' SendQueue and the cases' RecomputeQueue. `delay_seconds` holds every message
    back that long (the cases' first recompute pages wait out the policy cache)."""

    def __init__(
        self,
        client: SQSClient,
        url: str,
        delay_seconds: int = 0,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs = client
        self._url = url
        self._delay = max(0, min(delay_seconds, MAX_DELAY_SECONDS))
        self._attempts = attempts
        self._sleep = sleep

    def enqueue(self, messages: Sequence[BaseModel]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            self._send([m.model_dump_json() for m in messages[start : start + MAX_BATCH]])

    def _entry(self, entry_id: str, body: str) -> SendMessageBatchRequestEntryTypeDef:
        if self._delay:
            return {"Id": entry_id, "MessageBody": body, "DelaySeconds": self._delay}
        return {"Id": entry_id, "MessageBody": body}

    def _send(self, bodies: list[str]) -> None:
        pending = {str(i): body for i, body in enumerate(bodies)}
        for attempt in range(self._attempts):
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url, Entries=[self._entry(i, b) for i, b in pending.items()]
            )
            failed = answer.get("Failed", [])
            refused = [f for f in failed if f.get("SenderFault")]  # ours: sending it again cannot help
            if refused:
                raise PublishFailed(f"SQS refused {len(refused)} message(s): {refused[0].get('Code')}")
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                return
            if attempt + 1 < self._attempts:
                self._sleep(0.05 * 2**attempt)
        raise PublishFailed(f"{len(pending)} message(s) still not on the queue after {self._attempts} attempts")
