"""Fire what is due per the process clock: Scheduler schedules (at/rate/cron) and scheduled rules.

moto stores schedules and rules but never runs them. Here `at()` schedules fire once and are then
deleted (ActionAfterCompletion DELETE) or disabled; `rate()`/`cron()` schedules and scheduled rules
fire when due after their last run (several missed runs after a big clock jump fire once).

Every open case holds its timers (eight for a low-priority one), so a developer's 10,000 open cases
are 80,000 schedules: a tick that read and parsed every one of them each second kept a core busy
and every function waiting for the interpreter. `at()` schedules are kept in a heap by due time
instead (`_AtIndex`), fed by moto's own Schedule constructor and update, so a tick looks only at
what is due; what is popped is checked against moto's backend as it stands (the same schedule,
still there, enabled, at that time) before it fires.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import uuid
import weakref
from collections import deque
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


_INDEXES: weakref.WeakSet[_AtIndex] = weakref.WeakSet()  # told of every schedule moto makes or changes
_hooked = threading.Lock()


def _watch_moto_schedules() -> None:
    """Tell every live index of each schedule moto adds to a group or updates, once it is in place
    (idempotent)."""
    from moto.scheduler.models import Schedule, ScheduleGroup  # the local stack only, never at runtime

    with _hooked:
        if getattr(Schedule.update, "indexed", False):
            return
        real_add, real_update = ScheduleGroup.add_schedule, Schedule.update

        def add_schedule(self: Any, schedule: Any) -> None:
            real_add(self, schedule)
            for index in list(_INDEXES):
                index.arrived.append(schedule)

        def update(self: Any, *args: Any, **kwargs: Any) -> None:
            real_update(self, *args, **kwargs)
            for index in list(_INDEXES):
                index.arrived.append(self)

        update.indexed = True  # type: ignore[attr-defined]
        ScheduleGroup.add_schedule, Schedule.update = add_schedule, update  # type: ignore[method-assign]


class _AtIndex:
    """One region's schedules: `at()` ones in a heap by due time, recurring ones in a dict.

    Entries are never removed when moto deletes or changes a schedule: an entry is checked when it
    comes due (still the schedule moto holds under that name, enabled, due at that time), and the
    heap is rebuilt from moto when stale entries outnumber live ones."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix  # "arn:aws:scheduler:<region>:<account>:": whose schedules count
        self.arrived: deque[Any] = deque()  # appended by moto's Schedule, from any thread
        self._heap: list[tuple[datetime, int, Any]] = []
        self._recurring: dict[int, Any] = {}
        self._order = itertools.count()
        self._built = False
        _watch_moto_schedules()
        _INDEXES.add(self)

    def refresh(self, groups: list[Any]) -> None:
        live = sum(len(g.schedules) for g in groups)
        if not self._built or len(self._heap) > 2 * live + 1024:
            # What arrived meanwhile is read again below: a schedule indexed twice fires once (the
            # second entry finds it deleted, disabled or done).
            self._heap, self._recurring, self._built = [], {}, True
            for schedule in (s for g in groups for s in list(g.schedules.values())):
                self._add(schedule)
        while self.arrived:
            self._add(self.arrived.popleft())

    def _add(self, schedule: Any) -> None:
        if not schedule.arn.startswith(self._prefix):
            return
        at = at_time(schedule.schedule_expression, schedule.schedule_expression_timezone)
        if at is None:
            self._recurring[id(schedule)] = schedule
        else:
            self._recurring.pop(id(schedule), None)  # a recurring schedule updated to at()
            heapq.heappush(self._heap, (at, next(self._order), schedule))

    def due(self, now: datetime, groups: dict[str, Any]) -> list[Any]:
        """Pops the `at()` schedules due at `now` that moto still holds as they were indexed."""
        due: dict[int, Any] = {}  # a schedule indexed twice (read whole, and arrived) is due once
        while self._heap and self._heap[0][0] <= now:
            at, _, schedule = heapq.heappop(self._heap)
            if (
                id(schedule) not in due
                and _current(schedule, groups)
                and at_time(schedule.schedule_expression, schedule.schedule_expression_timezone) == at
            ):
                due[id(schedule)] = schedule
        return list(due.values())

    def put_back(self, schedules: list[Any]) -> None:
        for schedule in schedules:
            self._add(schedule)

    def recurring(self, groups: dict[str, Any]) -> list[Any]:
        for key, schedule in list(self._recurring.items()):
            if (
                groups.get(schedule.group_name) is None
                or groups[schedule.group_name].schedules.get(schedule.name) is not schedule
            ):
                del self._recurring[key]  # deleted from moto, or replaced by a new one (indexed anew)
        return [s for s in self._recurring.values() if s.state == "ENABLED"]


def _current(schedule: Any, groups: dict[str, Any]) -> bool:
    group = groups.get(schedule.group_name)
    return group is not None and group.schedules.get(schedule.name) is schedule and schedule.state == "ENABLED"


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
        self._index = _AtIndex(f"arn:aws:scheduler:{self._region}:{lambdas.ACCOUNT}:")

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
    # schedule on each call, which a tick a second cannot afford with thousands of case timers;
    # and only what the index says is due is looked at (the module's docstring).
    def _schedules(self, now: datetime) -> list[Fired]:
        from moto.scheduler.models import scheduler_backends  # the local stack only, never at runtime

        groups = dict(scheduler_backends[lambdas.ACCOUNT][self._region].schedule_groups)
        self._index.refresh(list(groups.values()))
        due = self._index.due(now, groups)
        fired = []
        for n, schedule in enumerate(due):
            if _identity(schedule) in self._done:
                continue
            try:
                fired.append(self._run_schedule(schedule, now))
            except Exception:
                self._index.put_back(due[n:])  # not fired: due again at the next tick, as before
                raise
        for schedule in self._index.recurring(groups):
            if _identity(schedule) not in self._done and self._schedule_due(schedule, now):
                fired.append(self._run_schedule(schedule, now))
        return fired

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
