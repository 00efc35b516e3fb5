"""`make bench ONLY=cases`: SLA escalation with many open cases, through the real local stack.

The local stack runs in this process (moto server, ticker, pollers, handlers). Background cases are
seeded straight into the Cases table (items) and into moto's scheduler (their whole timer plans, as
the timer group would hold them); the cases that come due are opened through the public form and
escalate through Scheduler (the ticker's Firing) -> the timer queue -> its poller -> cases_timers.
`BENCH_DUE_CASES` (100) come due at once, as after a developer moves the clock by hours.

Printed, with the run's baseline (10 open cases) beside the big run (10,000 open cases):
- AWS calls the timer consumer makes per applied SLA step, by service and operation: the work per
  escalation must not depend on how many cases are open, only on how many come due;
- the delay from the moment the clock passes a deadline to the step written in DynamoDB;
- a capture (POST /contacts over HTTP, through the same stack) with small tables and again once the
  big run's cases and as many contacts (`BENCH_CONTACTS`) are in: p50/p95 and their ratio;
- the two goals of "Performance at the limit": escalation lag p95 <= 10 s with 10,000 open cases,
  and capture p50 with the big tables <= 2 x its small-table value.
Nothing here is asserted: it is a measurement, not a test.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.bench.sink import quiet

OPEN_CASES = int(os.environ.get("BENCH_OPEN_CASES", "10000"))
BASELINE_CASES = 10
DUE = int(os.environ.get("BENCH_DUE_CASES", "100"))  # 10 due hid what a Query cost (decision 69)
CONTACTS = int(os.environ.get("BENCH_CONTACTS", str(OPEN_CASES)))
CAPTURES = int(os.environ.get("BENCH_CAPTURES", "60"))
WAIT_SECONDS = 600
LAG_GOAL_S = 10.0
CAPTURE_GOAL_X = 2.0


@dataclass
class Phase:
    label: str
    open_cases: int
    steps: int
    calls: Counter[tuple[str, str]]
    delays: list[float]
    mail_calls: Counter[tuple[str, str]]
    transaction_seconds: float  # moto's TransactWriteItems, mean over the phase
    query_seconds: float  # moto's Query (the case mailer's read of one case), mean over the phase
    tick_seconds: float  # the ticker's pass over what is due, mean over the phase

    def per_step(self, service: str) -> float:
        return sum(n for (svc, _), n in self.calls.items() if svc == service) / self.steps


class CallLog:
    """Every AWS API call made in this process, by the thread that made it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.seconds: list[tuple[int, str, float]] = []  # (call index, operation, duration)
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[None]:
        from botocore import client as botocore_client

        base: Any = botocore_client.BaseClient
        original = base._make_api_call
        log = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            with log._lock:
                log.calls.append((threading.current_thread().name, client.meta.service_model.service_name, operation))
                index = len(log.calls)
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                with log._lock:
                    log.seconds.append((index, operation, time.perf_counter() - started))

        base._make_api_call = counted
        try:
            yield
        finally:
            base._make_api_call = original

    def mean_seconds(self, start: int, operation: str) -> float:
        with self._lock:
            took = [s for index, op, s in self.seconds if index > start and op == operation]
        return statistics.fmean(took) if took else float("nan")

    def since(self, start: int, thread: str) -> Counter[tuple[str, str]]:
        with self._lock:
            picked = [(svc, op) for name, svc, op in self.calls[start:] if name == thread]
        # The poller's own receive/delete are the event source mapping's, not the function's.
        return Counter(c for c in picked if c not in {("sqs", "ReceiveMessage"), ("sqs", "DeleteMessageBatch")})


class Ticks:
    """How long each of the ticker's passes (Firing.fire_due) took, and when it ended."""

    def __init__(self) -> None:
        self.took: list[tuple[float, float]] = []

    @contextmanager
    def watched(self) -> Iterator[None]:
        from ecrm_local import schedules

        firing: Any = schedules.Firing
        original = firing.fire_due
        seen = self

        def timed(self: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self)
            finally:
                seen.took.append((time.perf_counter(), time.perf_counter() - started))

        firing.fire_due = timed
        try:
            yield
        finally:
            firing.fire_due = original

    def mean_between(self, start: float, end: float) -> float:
        took = [seconds for ended, seconds in list(self.took) if start <= ended <= end]
        return statistics.fmean(took) if took else float("nan")


class Escalations:
    """When each applied SLA step reached DynamoDB (DynamoCases.apply_escalation returned)."""

    def __init__(self) -> None:
        self.at: dict[str, list[float]] = {}

    @contextmanager
    def watched(self) -> Iterator[None]:
        from ecrm.cases.adapters import dynamo_cases

        repo_class: Any = dynamo_cases.DynamoCases
        original = repo_class.apply_escalation
        seen = self

        def timed(repo: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            original(repo, case, *args, **kwargs)
            seen.at.setdefault(case.id, []).append(time.perf_counter())

        repo_class.apply_escalation = timed
        try:
            yield
        finally:
            repo_class.apply_escalation = original

    def applied_since(self, moment: float) -> int:
        return sum(1 for times in self.at.values() for t in times if t >= moment)


def seed(env: dict[str, str], count: int, now: datetime) -> None:
    """`count` open low-priority cases, written as the adapter writes them, with their timer plans."""
    import boto3
    from ecrm.adapters import dynamo
    from ecrm.cases import sla, workflow
    from ecrm.cases.adapters.dynamo_cases import _case_values
    from ecrm.cases.policy import standard_book
    from ecrm.cases.workflow import Ctx, NewCase
    from ecrm_local import lambdas
    from moto.scheduler.models import scheduler_backends

    book = standard_book()
    policy = book.select(None, [])
    db = boto3.client("dynamodb")
    scheduler = scheduler_backends[lambdas.ACCOUNT]["us-east-1"]
    target = {"Arn": env["CASE_TIMER_QUEUE_ARN"], "RoleArn": env["SCHEDULER_ROLE_ARN"]}
    batch: list[dict[str, Any]] = []
    for n in range(count):
        new = NewCase(subject=f"background {n}", description="d", priority="low", channel="web", requester_id="0" * 32)
        change = workflow.open_case(new, os.urandom(16).hex(), sla.new_generation(), Ctx(now, "bench", policy))
        case = sla.replan(None, change.case, book, now, change.case.sla.generation)
        batch.append({"PutRequest": {"Item": dynamo.item(_case_values(case))}})
        for timer in sla.plan(case, policy):
            scheduler.create_schedule(
                description="",
                end_date="",
                flexible_time_window={"Mode": "OFF"},
                group_name=env["CASE_SCHEDULE_GROUP_NAME"],
                kms_key_arn="",
                name=timer.name,
                schedule_expression=f"at({timer.at:%Y-%m-%dT%H:%M:%S})",
                schedule_expression_timezone="UTC",
                start_date=None,  # type: ignore[arg-type]
                state="ENABLED",
                target={**target, "Input": json.dumps(timer.payload)},
                action_after_completion="DELETE",
            )
        if len(batch) == 25 or n == count - 1:
            request: dict[str, Any] = {env["CASES_TABLE_NAME"]: batch}
            while request:
                request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []


def seed_contacts(env: dict[str, str], count: int, now: datetime) -> None:
    """`count` contacts written as the adapter writes them: the profile and its e-mail reference."""
    import boto3
    from ecrm.adapters import dynamo
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm.contacts.models import Contact

    db = boto3.client("dynamodb")
    table = env["CONTACTS_TABLE_NAME"]
    batch: list[dict[str, Any]] = []
    for n in range(count):
        contact = Contact(id=os.urandom(16).hex(), email=f"seeded-{n}@example.com", created_at=now, updated_at=now)
        for values in (DynamoContacts._profile(contact), DynamoContacts._email_ref(contact)):
            batch.append({"PutRequest": {"Item": dynamo.item(values)}})
        if len(batch) >= 24 or n == count - 1:
            request: dict[str, Any] = {table: batch}
            while request:
                request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []


def capture_phase(label: str, local: Local) -> list[float]:
    """CAPTURES posts of the public contact form, one after the other, each a new address (half with
    marketing consent: its confirmation mail follows on the queues, as on a site); seconds each."""
    seconds = []
    for n in range(CAPTURES):
        body: dict[str, Any] = {"email": f"capture-{label}-{n}@example.com", "tags": [f"t{n % 3}"]}
        if n % 2:
            body["marketing_consent"] = True
        started = time.perf_counter()
        local.post("/contacts", body)
        seconds.append(time.perf_counter() - started)
    time.sleep(1.5)  # what the captures set off (relay, consumers, mail) settles before what follows
    return seconds


def run_phase(
    label: str, local: Local, open_cases: int, calls: CallLog, escalations: Escalations, ticks: Ticks
) -> Phase:
    """Open DUE urgent cases through the public form, move the clock past their first SLA step
    (the 75 % warning), wait until every one is applied; then solve them (their timers go), so the
    next phase sees only its own due cases."""
    from ecrm.clock import SYSTEM_CLOCK

    ids = [
        local.post(
            "/cases", {"email": f"bench-{n}@example.com", "subject": "due", "description": "d", "priority": "urgent"}
        )["id"]
        for n in range(DUE)
    ]
    warning_at = _first_step(ids[-1])
    time.sleep(1.5)  # let the creations' own events drain before counting
    start, ticking = len(calls.calls), time.perf_counter()
    SYSTEM_CLOCK.advance((warning_at - SYSTEM_CLOCK.now()).total_seconds() + 1)
    passed = time.perf_counter()  # the deadline is behind the clock from here on
    deadline = passed + WAIT_SECONDS
    while not all(i in escalations.at for i in ids) and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # duplicates or moot timers, if any, are part of the work
    _drain_mail(deadline)  # the notices: the mailer's share of the work
    phase = Phase(
        label,
        open_cases,
        escalations.applied_since(passed),
        calls.since(start, "poller-cases_timers"),
        [escalations.at[i][0] - passed for i in ids if i in escalations.at],
        calls.since(start, "poller-cases_mailer"),
        calls.mean_seconds(start, "TransactWriteItems"),
        calls.mean_seconds(start, "Query"),
        ticks.mean_between(ticking, time.perf_counter()),
    )
    for case_id in ids:
        local.post(f"/cases/{case_id}/solve", {}, role="agent")
    time.sleep(1.5)
    return phase


@dataclass
class Local:
    base: str
    key: bytes

    def post(self, path: str, body: dict[str, Any], role: str | None = None) -> dict[str, Any]:
        import urllib.request

        from ecrm_local import auth_tokens

        headers = {"Content-Type": "application/json"}
        if role:
            headers["Authorization"] = f"Bearer {auth_tokens.mint(self.key, role)}"
        request = urllib.request.Request(  # noqa: S310 - the local stack on 127.0.0.1
            self.base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
            result: dict[str, Any] = json.loads(answer.read())
            return result


def _drain_mail(deadline: float) -> None:
    """Wait until the case mailer has taken every notice off its queue (or the deadline passed)."""
    import boto3
    from ecrm.cases.names import Resource
    from ecrm_local import resources

    sqs = boto3.client("sqs")
    url = resources.queue_url(boto3.session.Session(), Resource.CASE_MAIL_QUEUE)
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    while time.perf_counter() < deadline:
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(counts[name] == "0" for name in names):
            return
        time.sleep(0.2)


def _first_step(case_id: str) -> datetime:
    import boto3
    from ecrm.cases import sla
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.cases.policy import standard_book

    repo = DynamoCases(boto3.client("dynamodb"), os.environ["CASES_TABLE_NAME"])
    case = repo.get(case_id)
    assert case is not None
    return min(step.at for step in sla.due_steps(case, standard_book().for_case(case)))


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples) or [float("nan")]
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report_captures(small: list[float], large: list[float], open_cases: int, contacts: int) -> None:
    print(f"\n== capture through the local stack: POST /contacts over HTTP, {CAPTURES} new addresses per table size")
    print(f"{'tables':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    rows = (
        (f"small: {BASELINE_CASES + DUE} cases, {CAPTURES} contacts", small),
        (f"{open_cases} open cases, {contacts} contacts", large),
    )
    for name, samples in rows:
        print(f"{name:40} {_pct(samples, 50) * 1000:8.1f} {_pct(samples, 95) * 1000:8.1f} {max(samples) * 1000:8.1f}")


def report_goals(phases: list[Phase], small: list[float], large: list[float]) -> None:
    baseline, big = phases[0], phases[-1]
    lag, base_lag = _pct(big.delays, 95), _pct(baseline.delays, 95)
    ratio = _pct(large, 50) / _pct(small, 50)
    print("\n== goals (Performance at the limit), measured in this run")
    print(
        f"   escalation lag p95 with {big.open_cases} open cases: {lag:.2f} s (baseline, {baseline.open_cases} open:"
        f" {base_lag:.2f} s; {lag / base_lag:.2f} x); goal <= {LAG_GOAL_S:.0f} s: {'met' if lag <= LAG_GOAL_S else 'MISSED'}"
    )
    print(
        f"   capture p50 with large tables / small: {_pct(large, 50) * 1000:.1f} / {_pct(small, 50) * 1000:.1f} ms"
        f" = {ratio:.2f} x; goal <= {CAPTURE_GOAL_X:.0f} x: {'met' if ratio <= CAPTURE_GOAL_X else 'MISSED'}"
    )


def report(phases: list[Phase]) -> None:
    baseline = phases[0]
    print(f"\n== SLA escalation through the local stack: {DUE} urgent cases come due per phase")
    print("   (first SLA step of each: the warning; applied by cases_timers from the timer queue)")
    header = f"{'phase':26} {'open':>7} {'steps':>6} {'DynamoDB/step':>14} {'x base':>7} {'Scheduler/step':>15}"
    print(
        header + f" {'events/step':>12} {'delay p50 s':>12} {'p95 s':>7} {'max s':>7} {'moto tx s':>10}"
        f" {'Query ms':>9} {'tick ms':>8}"
    )
    for phase in phases:
        ordered = sorted(phase.delays) or [float("nan")]
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        ratio = phase.per_step("dynamodb") / baseline.per_step("dynamodb") if baseline.steps else float("nan")
        print(
            f"{phase.label:26} {phase.open_cases:7d} {phase.steps:6d} {phase.per_step('dynamodb'):14.2f} {ratio:7.2f}"
            f" {phase.per_step('scheduler'):15.2f} {phase.per_step('events'):12.2f}"
            f" {statistics.median(ordered):12.2f} {p95:7.2f} {ordered[-1]:7.2f} {phase.transaction_seconds:10.2f}"
            f" {phase.query_seconds * 1000:9.1f} {phase.tick_seconds * 1000:8.1f}"
        )
    for phase in phases:
        ops = ", ".join(f"{op} {n / max(phase.steps, 1):.2f}" for (svc, op), n in sorted(phase.calls.items()))
        print(f"   {phase.label}: per step: {ops}")
        mail = ", ".join(f"{op} {n / max(phase.steps, 1):.2f}" for (svc, op), n in sorted(phase.mail_calls.items()))
        print(f"   {phase.label}: case mailer per step (the notice): {mail}")
    big = phases[-1]
    if baseline.delays and big.delays:
        print(
            f"   delay ratio (p50, {big.open_cases} open vs {baseline.open_cases}): "
            f"{statistics.median(big.delays) / statistics.median(baseline.delays):.2f}"
        )
    print(
        "   delay = clock past the deadline -> the step's transaction returned: the ticker's wait (<= 1 s),\n"
        "   its pass over what is due ('tick ms', mean per tick in the phase), the poller, and the handlers (one\n"
        "   at a time, as the local stack runs them). 'moto tx s' and 'Query ms': the mean TransactWriteItems and\n"
        "   Query of any function in the phase, waits for moto's request lock included; in DynamoDB neither grows\n"
        "   with the table.\n"
        "   A GetItem above 1 per step is the policy book re-read when its 30 s cache expires mid-phase."
    )


def main() -> None:
    from ecrm_local import auth_tokens
    from ecrm_local.stack import LocalStack

    calls, escalations, ticks = CallLog(), Escalations(), Ticks()
    root = Path(tempfile.mkdtemp(prefix="bench-cases-"))
    stack = LocalStack(port=0, root=root)
    started = time.perf_counter()
    with calls.installed(), escalations.watched(), ticks.watched(), quiet():
        stack.start()
        try:
            from ecrm.clock import SYSTEM_CLOCK

            env = dict(os.environ)
            local = Local(stack.base_url, auth_tokens.load_key(root))
            seed(env, BASELINE_CASES, SYSTEM_CLOCK.now())
            run_phase("warm-up", local, BASELINE_CASES + DUE, calls, escalations, ticks)  # cold composition roots
            phases = [run_phase("baseline", local, BASELINE_CASES + DUE, calls, escalations, ticks)]
            capture_phase("warm", local)  # cold composition roots and consumers, not timed
            small = capture_phase("small", local)
            seeding = time.perf_counter()
            seed(env, OPEN_CASES - BASELINE_CASES, SYSTEM_CLOCK.now())
            seed_contacts(env, CONTACTS, SYSTEM_CLOCK.now())
            seeded = time.perf_counter() - seeding
            phases.append(run_phase(f"{OPEN_CASES} open", local, OPEN_CASES + DUE, calls, escalations, ticks))
            large = capture_phase("large", local)
        finally:
            stack.stop()
    print(f"seeded {OPEN_CASES} open cases with their timer plans and {CONTACTS} contacts in {seeded:.0f} s")
    report(phases)
    report_captures(small, large, OPEN_CASES, CONTACTS)
    report_goals(phases, small, large)
    print(f"cases bench took {time.perf_counter() - started:.0f} s")
