"""The recompute queue: replanning requests after an SLA policy edit (ecrm.cases.recompute)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ecrm.cases.recompute import RecomputeRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10


class SendFailed(Exception):
    """SQS refused some messages of a batch."""


class SqsRecomputeQueue:
    def __init__(self, client: SQSClient, queue_url: str, first_delay_seconds: int) -> None:
        self._sqs = client
        self._url = queue_url
        self._delay = min(first_delay_seconds, 900)  # SQS's maximum delay

    def send(self, requests: Sequence[RecomputeRequest], first: bool) -> None:
        delay = self._delay if first else 0
        for start in range(0, len(requests), MAX_BATCH):
            entries = [
                {"Id": str(n), "MessageBody": r.model_dump_json(), "DelaySeconds": delay}
                for n, r in enumerate(requests[start : start + MAX_BATCH])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
            if answer.get("Failed"):
                raise SendFailed(f"{len(answer['Failed'])} recompute request(s) refused")
