"""ResumeQueue on the runner's own queue: one message per page of held contacts."""

from __future__ import annotations

from ecrm.adapters.sqs import SqsQueue
from ecrm.journeys.models import ResumePage


class SqsResume:
    def __init__(self, queue: SqsQueue) -> None:
        self._queue = queue

    def resume(self, journey_id: str, cursor: str | None) -> None:
        self._queue.enqueue([ResumePage(action="resume", journey_id=journey_id, cursor=cursor)])
