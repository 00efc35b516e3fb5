"""Fire what is due per the process clock: Scheduler schedules (at/rate/cron) and scheduled rules.

moto stores schedules and rules but never runs them. Here `at()` schedules fire once and are then
deleted (ActionAfterCompletion DELETE) or disabled; `rate()`/`cron()` schedules and scheduled rules
fire when due after their last run (several missed runs after a big clock jump fire once).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ecrm.clock import MovableClock

from ecrm_local import LOG_NAME, lambdas
from ecrm_local.cron import Cron, rate_seconds

if TYPE_CHECKING:
    from boto3.session import Session

log = logging.getLogger(f"{LOG_NAME}.schedules")


def at_time(expression: str, timezone: str | None) -> datetime | None:
    expression = expression.strip()
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=ZoneInfo(timezone or "UTC"))


def recurring_due(expression: str, timezone: str | None, last: datetime, now: datetime) -> bool:
    """Whether a rate()/cron() expression has a run in (last, now]; ValueError if unsupported."""
    seconds = rate_seconds(expression)
    if seconds is not None:
        return now >= last + timedelta(seconds=seconds)
    tz = ZoneInfo(timezone or "UTC")
    upcoming = Cron(expression).next_after(last.astimezone(tz))
    return upcoming is not None and upcoming <= now


def context_attributes(payload: str, schedule_arn: str, scheduled: datetime) -> str:
    """Fill in the context attributes Scheduler substitutes in a target's Input."""
    values = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }
    for placeholder, value in values.items():
        payload = payload.replace(placeholder, value)
    return payload


def _identity(schedule: Any) -> str:
    """A schedule as it stands: a timer re-created (or moved) under the same name is a new one."""
    return f"{schedule.arn}@{schedule.last_modified_date}"


def _instant(value: Any) -> datetime | None:
    """moto keeps schedule dates as epoch seconds (or None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


@dataclass(frozen=True)
class Fired:
    kind: str  # "schedule" | "rule"
    name: str
    target: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "target": self.target}


class Dispatcher:
    """Delivers a payload to a target ARN: an SQS queue, or a topology function run in-process."""

    def __init__(self, session: Session) -> None:
        self._sqs = session.client("sqs")

    def deliver(self, arn: str, payload: str, message_group: str | None = None) -> None:
        parts = arn.split(":")
        service = parts[2]
        if service == "sqs":
            url = self._sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            if parts[5].endswith(".fifo"):
                self._sqs.send_message(QueueUrl=url, MessageBody=payload, MessageGroupId=message_group or "default")
            else:
                self._sqs.send_message(QueueUrl=url, MessageBody=payload)
        elif service == "lambda":
            try:
                lambdas.invoke(parts[6], json.loads(payload or "{}"))
            except Exception:  # as an async invoke: the caller is not told; the log is
                log.exception("scheduled invoke of %s failed", parts[6])
        else:
            log.warning("target %s is not supported locally; nothing delivered", arn)


class Firing:
    def __init__(self, session: Session, clock: MovableClock) -> None:
        self._scheduler = session.client("scheduler")
        self._events = session.client("events")
        self._dispatch = Dispatcher(session)
        self._clock = clock
        self._region = session.region_name
        self._last: dict[str, datetime] = {}  # schedule/rule ARN -> last run (or first sight)
        self._done: set[str] = set()  # at() schedules fired but not deletable
        self._lock = threading.Lock()

    def fire_due(self) -> list[Fired]:
        with self._lock:
            now = self._clock.now()
            return self._schedules(now) + self._rules(now)

    def advance(self, seconds: float) -> list[Fired]:
        """Move the clock and fire what became due, as one step: the ticker cannot fire in between,
        so what this move made due is in the answer (`POST /_local/clock` reports it)."""
        with self._lock:
            self._clock.advance(seconds)
            now = self._clock.now()
            return self._schedules(now) + self._rules(now)

    # --- EventBridge Scheduler -------------------------------------------------------------
    # Read from moto's backend in this process: the API's ListSchedules sorts and pages every
    # schedule on each call, which a tick a second cannot afford with thousands of case timers.
    def _schedules(self, now: datetime) -> list[Fired]:
        fired = []
        for schedule in self._enabled_schedules():
            if _identity(schedule) in self._done:
                continue
            if self._schedule_due(schedule, now):
                fired.append(self._run_schedule(schedule, now))
        return fired

    def _enabled_schedules(self) -> list[Any]:
        from moto.scheduler.models import scheduler_backends  # the local stack only, never at runtime

        backend = scheduler_backends[lambdas.ACCOUNT][self._region]
        groups = list(backend.schedule_groups.values())
        return [s for g in groups for s in list(g.schedules.values()) if s.state == "ENABLED"]

    def _schedule_due(self, schedule: Any, now: datetime) -> bool:
        expression, tz = schedule.schedule_expression, schedule.schedule_expression_timezone
        at = at_time(expression, tz)
        if at is not None:
            return at <= now
        start, end = _instant(schedule.start_date), _instant(schedule.end_date)
        if (start and now < start) or (end and now > end):
            return False
        # First sight on the process clock, not moto's wall-clock creation date: the local clock may
        # have been moved ahead, and a schedule made "now" must not count runs before it existed.
        last = self._last.setdefault(schedule.arn, now)
        due = self._recurring_due(schedule.arn, expression, tz, last, now)
        if schedule.arn in self._done:  # an unsupported expression
            self._done.add(_identity(schedule))
        return due

    def _recurring_due(self, arn: str, expression: str, tz: str | None, last: datetime, now: datetime) -> bool:
        try:
            due = recurring_due(expression, tz, last, now)
        except ValueError:
            log.warning("%s: expression %r is not supported locally; it never fires", arn, expression)
            self._done.add(arn)
            return False
        if due:
            self._last[arn] = now
        return due

    def _run_schedule(self, schedule: Any, now: datetime) -> Fired:
        target = schedule.target
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        # A one-time schedule's scheduled time is its at(); a recurring one's, this tick (locally).
        scheduled = at_time(schedule.schedule_expression, schedule.schedule_expression_timezone) or now
        payload = context_attributes(target.get("Input", "{}"), schedule.arn, scheduled)
        self._dispatch.deliver(target["Arn"], payload, group)
        if at_time(schedule.schedule_expression, None) is not None:
            self._complete(schedule)
        return Fired("schedule", f"{schedule.group_name}/{schedule.name}", target["Arn"])

    def _complete(self, schedule: Any) -> None:
        self._done.add(_identity(schedule))  # never twice, even if the delete or disable below fails
        name, group = schedule.name, schedule.group_name
        if schedule.action_after_completion == "DELETE":
            self._scheduler.delete_schedule(Name=name, GroupName=group)
            # Gone, so it cannot fire again: remembering it only grew the set with every timer fired.
            self._done.discard(_identity(schedule))
            return
        self._scheduler.update_schedule(
            Name=name,
            GroupName=group,
            State="DISABLED",
            ScheduleExpression=schedule.schedule_expression,
            ScheduleExpressionTimezone=schedule.schedule_expression_timezone,
            FlexibleTimeWindow=schedule.flexible_time_window,
            Target=schedule.target,
        )

    # --- scheduled EventBridge rules -------------------------------------------------------
    def _rules(self, now: datetime) -> list[Fired]:
        fired = []
        for bus in self._events.list_event_buses().get("EventBuses", []):
            for rule in self._paged(self._events.list_rules, "Rules", EventBusName=bus["Name"]):
                if not rule.get("ScheduleExpression") or rule.get("State") != "ENABLED":
                    continue
                last = self._last.setdefault(rule["Arn"], now)
                if self._recurring_due(rule["Arn"], rule["ScheduleExpression"], None, last, now):
                    fired += self._run_rule(rule, bus["Name"], now)
        return fired

    def _run_rule(self, rule: dict[str, Any], bus: str, now: datetime) -> list[Fired]:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": lambdas.ACCOUNT,
            "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [rule["Arn"]],
            "detail": {},
        }
        fired = []
        for target in self._events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", []):
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            self._dispatch.deliver(target["Arn"], target.get("Input") or json.dumps(event), group)
            fired.append(Fired("rule", rule["Name"], target["Arn"]))
        return fired

    @staticmethod
    def _paged(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = call(**kwargs)
            items += page.get(key, [])
            if not page.get("NextToken"):
                return items
            kwargs["NextToken"] = page["NextToken"]
