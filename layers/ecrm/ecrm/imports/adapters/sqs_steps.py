"""The import and export queues: one message per job step, each with its own delay (an import's
opt-in mail pace)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsSteps:
    def __init__(self, client: SQSClient, url: str) -> None:
        self._sqs = client
        self._url = url

    def send(self, step: BaseModel, delay_seconds: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self._url, MessageBody=step.model_dump_json(), DelaySeconds=max(0, min(delay_seconds, 900))
        )
