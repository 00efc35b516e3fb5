"""Timers on EventBridge Scheduler: one-time `at()` schedules that delete themselves after firing,
and `cron()` schedules, each sending its payload to one SQS queue through the scheduler's role.

A time that is already due is not scheduled (Scheduler refuses or delays past `at()` times); its
payload goes straight onto the queue instead, so the consumer sees the same message either way.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.clock import Clock
from ecrm.timers import Recurrence, Timer

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sqs import SQSClient


class SchedulerTimers:
    def __init__(
        self,
        scheduler: EventBridgeSchedulerClient,
        sqs: SQSClient,
        clock: Clock,
        *,
        group: str,
        role_arn: str,
        queue_arn: str,
        queue_url: str,
    ) -> None:
        self._scheduler = scheduler
        self._sqs = sqs
        self._clock = clock
        self._group = group
        self._role_arn = role_arn
        self._queue_arn = queue_arn
        self._queue_url = queue_url

    def set(self, timer: Timer) -> None:
        if timer.at <= self._clock.now():
            # Sent first, then the schedule of that name removed: if the send fails, a schedule set
            # earlier (a safety net) still fires; if the removal fails, it fires once more (consumers
            # drop the duplicate). The other order could lose the timer.
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(timer.payload))
            self.cancel(timer.name)
            return
        at = timer.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        self._put(timer.name, {"ScheduleExpression": f"at({at})", "ActionAfterCompletion": "DELETE"}, timer.payload)

    def set_recurring(self, recurrence: Recurrence) -> None:
        spec: dict[str, Any] = {"ScheduleExpression": recurrence.cron}
        spec["ScheduleExpressionTimezone"] = recurrence.timezone
        if recurrence.start:
            spec["StartDate"] = recurrence.start
        if recurrence.end:
            spec["EndDate"] = recurrence.end
        self._put(recurrence.name, spec, recurrence.payload)

    def cancel(self, name: str) -> None:
        try:
            self._scheduler.delete_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def _put(self, name: str, spec: dict[str, Any], payload: dict[str, Any]) -> None:
        request: dict[str, Any] = {
            "Name": name,
            "GroupName": self._group,
            # Said outright: UpdateSchedule takes a missing State as ENABLED in AWS, but moto stores
            # None, and a moved timer then never fired locally.
            "State": "ENABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": self._queue_arn, "RoleArn": self._role_arn, "Input": json.dumps(payload)},
            **spec,
        }
        try:
            self._scheduler.create_schedule(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
            # UpdateSchedule resets what it is not given, so it gets the whole request again.
            self._scheduler.update_schedule(**request)
