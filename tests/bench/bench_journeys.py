"""`make bench ONLY=journeys`: contacts entering a three-step journey, printed as figures; nothing
is asserted (issue #13).

The journey: `welcome` (send_mail) -> `pause` (wait 1 day) -> `followup` (send_mail), entered on
ContactCaptured.v1 with a tag filter. What runs for real and what is simulated (the output says it
again):
- On moto (`BENCH_JOURNEY_MOTO_CONTACTS`, 100 by default: about a minute and a half here, as moto's
  transactions copy the table they write): the shipped functions and adapters. The journey is
  created and started over the API; that many consented contacts are written to their table and
  their ContactCaptured published on the bus; the runner's queue is pumped into the shipped
  `journeys_runner` (only that function: the other consumers of the bus are not what is counted,
  and pumping them too tripled the time); the clock is moved a day and the runner pumped again
  (the Scheduler's timers fire into its queue). Every AWS request is seen at botocore's boundary
  (tests.support.aws_calls); a request counts for the runner when it is made while
  `journeys_runner` handles a batch of its queue (the local Lambda invoke), and is filed under the
  step the runner is at (a probe on the runner's methods: the event's reading and the entry, each
  step it runs, a timer's fire) and the port method it came from (a probe on the shipped
  adapters' methods). Against it, in the same run, a triggered campaign (TriggeredSchedule on
  ContactCaptured.v1, no segment, the same template), started after the journey's contacts are
  through, mails as many other contacts: requests made while `campaign_triggers` or
  `campaign_sender` handle their queues (the two pumped in that phase).
- At 100,000 contacts (`BENCH_JOURNEY_CONTACTS`): the shipped `JourneyRunner` over in-memory
  ports that count their calls (tests/bench/journeys_memory.py). DynamoDB requests per step are
  derived (not measured) from the moto pass's requests per port call. Against it, a bare loop
  that builds and stores the same Progress objects without the runner.
- Part 3: the property test (tests/unit/journeys/test_property.py) at
  `BENCH_JOURNEY_PROPERTY_EXAMPLES` (3,000) examples instead of the suite's 60; its result and rate.
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.clock import FixedClock
from ecrm.journeys.models import Definition, Journey, Progress, TimerFire, Waiting
from ecrm.journeys.runner import Delivery, JourneyRunner
from ecrm.names import DetailType, Source

from tests.bench.journeys_memory import (
    Calls,
    MemoryJourneys,
    MemoryMailer,
    MemoryProgress,
    MemoryTimers,
    Nobody,
)
from tests.bench.sink import quiet

CONTACTS = int(os.environ.get("BENCH_JOURNEY_CONTACTS", "100000"))
MOTO_CONTACTS = int(os.environ.get("BENCH_JOURNEY_MOTO_CONTACTS", "100"))
DAY = 86_400
TAG = "journey"
TEMPLATE = "a" * 32  # in memory: no template store, the mail port only claims and counts
RUNNER = "journeys_runner"
CAMPAIGN = ("campaign_triggers", "campaign_sender")
JOURNEY_PHASES = ("enter", "wake")  # the campaign phase's events reach the runner too: not counted

# the rows printed per step: the probe's labels, in the journey's order
ROWS = (
    ("entry", "entry (read the contact's journeys, the live list, enter)"),
    ("welcome", "welcome (send_mail)"),
    ("pause", "pause (wait 1 day: arm the timer)"),
    ("timer", "pause (the timer fires: read, wake, leave the wait)"),
    ("followup", "followup (send_mail, then done)"),
)
MAIL_STEPS = ("welcome", "followup")

DYNAMODB = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
}
SCHEDULER = {"CreateSchedule", "UpdateSchedule", "GetSchedule", "DeleteSchedule"}
SQS = {"SendMessage", "SendMessageBatch"}
SES = {"SendEmail"}


def definition(template_id: str) -> dict[str, Any]:
    return {
        "name": "Bench welcome",
        "entry": {"event": DetailType.CONTACT_CAPTURED, "filter": {"tags": TAG}},
        "steps": [
            {"id": "welcome", "type": "send_mail", "template_id": template_id, "topic": "newsletter"},
            {"id": "pause", "type": "wait", "duration": {"days": 1}},
            {"id": "followup", "type": "send_mail", "template_id": template_id, "topic": "newsletter"},
        ],
    }


# -- the probe: which step the runner is at, which port a request came from ------------------------


@contextlib.contextmanager
def patched(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    real = cls.__dict__[name]
    setattr(cls, name, functools.wraps(real)(make(real)))
    try:
        yield
    finally:
        setattr(cls, name, real)


def labelled(calls: Calls) -> contextlib.ExitStack:
    """While open, `calls.label` names what the runner is doing: `entry` while it handles an event
    (outside any step), the step's id while it runs one, `timer` while it handles a timer's fire."""

    def with_label(label: Callable[[tuple[Any, ...]], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(real: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any, **kwargs: Any) -> Any:
                outer, calls.label = calls.label, label(args)
                try:
                    return real(*args, **kwargs)
                finally:
                    calls.label = outer

            return run

        return make

    stack = contextlib.ExitStack()
    stack.enter_context(patched(JourneyRunner, "on_event", with_label(lambda _: "entry")))
    stack.enter_context(patched(JourneyRunner, "on_timer", with_label(lambda _: "timer")))
    stack.enter_context(patched(JourneyRunner, "_run", with_label(lambda args: str(args[1].step))))
    return stack


class Probe(Calls):
    """The moto pass's probe: the function handling a batch, the runner's step, the outermost port
    method under way, and every AWS request under them."""

    def __init__(self) -> None:
        super().__init__()
        self.fn = ""
        self.port = "-"
        self.phase = ""
        self.requests: Counter[tuple[str, str, str, str, str]] = Counter()  # phase, fn, label, port, op
        self.ports: Counter[tuple[str, str, str]] = Counter()  # (phase, label, port) calls by the runner

    def hook(self, n: int, operation: str, answered: bool) -> None:
        if not answered and self.fn:
            self.requests[(self.phase, self.fn, self.label, self.port, operation)] += 1

    def watch(self, cls: type, port: str, names: tuple[str, ...]) -> contextlib.ExitStack:
        def make_for(call: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            def make(real: Callable[..., Any]) -> Callable[..., Any]:
                def run(*args: Any, **kwargs: Any) -> Any:
                    if self.port != "-":
                        return real(*args, **kwargs)
                    if self.fn == RUNNER:
                        self.ports[(self.phase, self.label, call)] += 1
                    self.port = call
                    try:
                        return real(*args, **kwargs)
                    finally:
                        self.port = "-"

                return run

            return make

        stack = contextlib.ExitStack()
        for name in names:
            stack.enter_context(patched(cls, name, make_for(f"{port}.{name}")))
        return stack

    def invoking(self) -> Any:
        from ecrm_local import lambdas

        real = lambdas.invoke

        def invoke(name: str, event: dict[str, Any]) -> Any:
            self.fn = name if name == RUNNER or name in CAMPAIGN else ""
            try:
                return real(name, event)
            finally:
                self.fn = ""

        return patched_module(lambdas, "invoke", invoke)


@contextlib.contextmanager
def patched_module(module: Any, name: str, value: Any) -> Iterator[None]:
    real = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, real)


def watched_ports(probe: Probe) -> contextlib.ExitStack:
    from ecrm.adapters.scheduler import SchedulerTimers
    from ecrm.journeys.adapters.dynamo_journeys import DynamoJourneys, DynamoProgress
    from ecrm.journeys.adapters.dynamo_people import ContactEdits, People, RecipientFacts
    from ecrm.journeys.adapters.sqs_resume import SqsResume
    from ecrm.journeys.mailing import JourneyMailing

    stack = contextlib.ExitStack()
    for cls, port, names in (
        (DynamoProgress, "progress", ("of_contact", "get", "move", "held", "forget")),
        (DynamoJourneys, "journeys", ("get", "definition", "live", "all")),
        (SchedulerTimers, "timers", ("set", "cancel")),
        (JourneyMailing, "mail", ("send",)),
        (RecipientFacts, "facts", ("facts",)),
        (ContactEdits, "editor", ("edit",)),
        (People, "resolver", ("by_email", "requester_of")),
        (SqsResume, "resume", ("resume",)),
    ):
        stack.enter_context(probe.watch(cls, port, names))
    return stack


# -- part 1: moto ---------------------------------------------------------------------------------


class MotoFigures:
    def __init__(self, probe: Probe, contacts: int, seconds: float) -> None:
        self.probe = probe
        self.contacts = contacts
        self.seconds = seconds
        self.mails: list[int] = []  # per journey contact
        self.campaign_mails: list[int] = []  # per campaign contact
        self.phase_seconds: dict[str, float] = {}

    def runner(self) -> Counter[tuple[str, str, str]]:
        """(label, port, op) -> requests made by the runner in the journey's two phases."""
        found: Counter[tuple[str, str, str]] = Counter()
        for (phase, fn, label, port, op), n in self.probe.requests.items():
            if phase in JOURNEY_PHASES and fn == RUNNER and label != "-":
                found[(label, port, op)] += n
        return found

    def calls(self) -> Counter[tuple[str, str]]:
        """(label, port) -> port calls by the runner in the journey's two phases."""
        found: Counter[tuple[str, str]] = Counter()
        for (phase, label, port), n in self.probe.ports.items():
            if phase in JOURNEY_PHASES:
                found[(label, port)] += n
        return found

    def per_call(self) -> dict[tuple[str, str], dict[str, float]]:
        """(label, port) -> DynamoDB requests per call of that port method at that step, by op."""
        found: dict[tuple[str, str], dict[str, float]] = {}
        made = self.calls()
        for (label, port, op), n in self.runner().items():
            calls = made.get((label, port), 0)
            if op in DYNAMODB and calls:
                ops = found.setdefault((label, port), {})
                ops[op] = ops.get(op, 0) + n / calls
        return found


def run_moto(n: int) -> MotoFigures:
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.events import ContactCaptured
    from ecrm_local import outbox

    from tests.integration.campaigns_support import campaigns_stack
    from tests.support import aws_calls

    probe = Probe()
    started = time.perf_counter()
    with campaigns_stack(send_rate=1000) as world, quiet():
        template = world.template()
        created = world.stack.call("POST", "/journeys", {"definition": definition(template)}, roles="marketer")
        journey_id = created.json["journey"]["id"]
        world.stack.call("POST", f"/journeys/{journey_id}/start", roles="marketer")
        people = [world.contact(i, tags=(TAG,), announce=False) for i in range(1, n + 1)]
        others = [world.contact(i, tags=("other",), announce=False) for i in range(n + 1, 2 * n + 1)]
        world.pump(rounds=10_000)
        figures = MotoFigures(probe, n, 0)
        with aws_calls(probe.hook), probe.invoking(), watched_ports(probe), labelled(probe):

            def phase(name: str, before: Callable[[], None], functions: set[str]) -> None:
                probe.phase = name
                at = time.perf_counter()
                before()
                world.pump(rounds=10_000, only=functions)
                figures.phase_seconds[name] = time.perf_counter() - at

            def capture(group: list[Any], tags: list[str]) -> Callable[[], None]:
                def publish() -> None:
                    for contact in group:
                        world.publish(ContactCaptured(occurred_at=SYSTEM_CLOCK.now(), contact_id=contact.id, tags=tags))

                return publish

            phase("enter", capture(people, [TAG]), {RUNNER})
            phase("wake", lambda: world.advance(DAY + 600), {RUNNER})
            # the campaigns' trigger queue holds the journey contacts' ContactCaptured (only the runner
            # was pumped): drained before the campaign exists, so it mails only its own contacts
            probe.phase = "drain"
            world.pump(rounds=10_000, only=set(CAMPAIGN))
            campaign = world.campaign(
                {"kind": "triggered", "detail_type": DetailType.CONTACT_CAPTURED},
                template_id=template,
                topic="newsletter",
            )
            world.action(campaign, "schedule")
            phase("campaign", capture(others, ["other"]), set(CAMPAIGN))
        sent = Counter(to for m in outbox.messages() for to in m["to"])
        figures.mails = [sent.get(c.email, 0) for c in people]
        figures.campaign_mails = [sent.get(c.email, 0) for c in others]
    figures.seconds = time.perf_counter() - started
    return figures


def _kinds(ops: Counter[str]) -> dict[str, float]:
    return {
        "dynamodb": sum(v for k, v in ops.items() if k in DYNAMODB),
        "scheduler": sum(v for k, v in ops.items() if k in SCHEDULER),
        "sqs": sum(v for k, v in ops.items() if k in SQS),
        "ses": sum(v for k, v in ops.items() if k in SES),
        "other": sum(v for k, v in ops.items() if k not in DYNAMODB | SCHEDULER | SQS | SES),
    }


def _ops(ops: Counter[str] | dict[str, float], per: float) -> str:
    return ", ".join(f"{op} {v / per:.2f}" for op, v in sorted(ops.items()) if v) or "-"


def report_moto(f: MotoFigures) -> None:
    n = f.contacts
    print(
        f"\n-- part 1, on moto: {n} contacts through the shipped functions ({f.seconds:.0f} s; "
        + ", ".join(f"{k} phase {v:.0f} s" for k, v in f.phase_seconds.items())
        + ")"
    )
    print(
        "   counted: AWS requests (botocore) made while journeys_runner handles its queue's batches,"
        " filed by the runner's step and port method; per contact = divided by the contacts entered"
    )
    by_label: dict[str, Counter[str]] = {}
    other: Counter[str] = Counter()
    for (label, _port, op), v in f.runner().items():
        by_label.setdefault(label, Counter())[op] += v
    for (phase, fn, label, _port, op), v in f.probe.requests.items():
        if phase in JOURNEY_PHASES and fn == RUNNER and label == "-":
            other[op] += v  # outside any handling of a message: the composition root's reads
    print(f"{'step':56} {'dynamodb':>8} {'sched':>6} {'sqs':>5} {'ses':>5} {'other':>5}   DynamoDB by operation")
    total: Counter[str] = Counter()
    for label, title in ROWS:
        ops = by_label.get(label, Counter())
        total.update(ops)
        k = _kinds(ops)
        print(
            f"{title:56} {k['dynamodb'] / n:8.2f} {k['scheduler'] / n:6.2f} {k['sqs'] / n:5.2f} {k['ses'] / n:5.2f} "
            f"{k['other'] / n:5.2f}   {_ops(Counter({o: v for o, v in ops.items() if o in DYNAMODB}), n)}"
        )
    k = _kinds(total)
    print(
        f"{'whole journey, per contact':56} {k['dynamodb'] / n:8.2f} {k['scheduler'] / n:6.2f} {k['sqs'] / n:5.2f} "
        f"{k['ses'] / n:5.2f} {k['other'] / n:5.2f}"
    )
    others = {op: v for op, v in total.items() if op not in DYNAMODB | SCHEDULER | SQS | SES}
    print(f"   'other' requests: {others or '-'}; outside any message (composition): {dict(other) or '-'}")
    print("   by port method (per call, DynamoDB requests; calls per contact):")
    calls = f.calls()
    order = [r[0] for r in ROWS]
    for (label, port), per in sorted(f.per_call().items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        print(f"     {label:9} {port:22} {calls[(label, port)] / n:5.2f} calls/contact  {_ops(per, 1)}")
    _report_mails("mails per journey contact", f.mails, 2)
    _report_baseline(f, by_label, total)


def _report_baseline(f: MotoFigures, by_label: dict[str, Counter[str]], total: Counter[str]) -> None:
    """The campaigns' own triggered path, one mail per contact, against the journey's mails."""
    camp: Counter[str] = Counter()
    for (phase, fn, _, _, op), v in f.probe.requests.items():
        if phase == "campaign" and fn in CAMPAIGN:
            camp[op] += v
    _report_mails("mails per campaign contact (triggered campaign)", f.campaign_mails, 1)
    camp_mails = sum(f.campaign_mails) or 1
    step_ops: Counter[str] = Counter()
    for label in MAIL_STEPS:
        step_ops.update(by_label.get(label, Counter()))
    journey_mails = sum(f.mails) or 1
    c_all, c_db = sum(camp.values()) / camp_mails, _kinds(camp)["dynamodb"] / camp_mails
    s_all, s_db = sum(step_ops.values()) / journey_mails, _kinds(step_ops)["dynamodb"] / journey_mails
    j_all, j_db = sum(total.values()) / journey_mails, _kinds(total)["dynamodb"] / journey_mails
    print("   AWS requests per mail (all services / DynamoDB only):")
    print(f"     triggered campaign (campaign_triggers + campaign_sender): {c_all:6.2f} / {c_db:6.2f}  (baseline)")
    print(
        f"     journey mail step (welcome, followup; the step's move included): {s_all:6.2f} / {s_db:6.2f}"
        f"  = {s_all / c_all:.2f}x / {s_db / c_db:.2f}x the baseline"
    )
    print(
        f"     whole journey per mail (entry, wait, timer included): {j_all:6.2f} / {j_db:6.2f}"
        f"  = {j_all / c_all:.2f}x / {j_db / c_db:.2f}x the baseline"
    )
    print(f"     campaign path by operation, per mail: {_ops(camp, camp_mails)}")


def _report_mails(title: str, mails: list[int], expected: int) -> None:
    if not mails:
        return
    off = sum(1 for m in mails if m != expected)
    print(f"   {title}: min {min(mails)}, max {max(mails)}; contacts with other than {expected}: {off} of {len(mails)}")


# -- part 2: in memory ----------------------------------------------------------------------------

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
JOURNEY_ID = "b" * 32


def contact_id(i: int) -> str:
    return f"{i:032x}"


def delivery(i: int) -> Delivery:
    detail = {"occurred_at": T0.isoformat(), "contact_id": contact_id(i), "tags": [TAG], "form_id": None}
    return Delivery(DetailType.CONTACT_CAPTURED, Source.CONTACTS, detail, f"ev-{i}")


class MemoryRun:
    def __init__(self) -> None:
        self.calls = Calls()
        self.clock = FixedClock(T0)
        journey = Journey(id=JOURNEY_ID, name="Bench", status="live", version=1, created_at=T0, updated_at=T0)
        self.journeys = MemoryJourneys(self.calls, journey, Definition.model_validate(definition(TEMPLATE)))
        self.progress = MemoryProgress(self.calls, self.journeys)
        self.timers = MemoryTimers(self.calls)
        self.mailer = MemoryMailer(self.calls)
        nobody = Nobody(self.calls)
        self.runner = JourneyRunner(
            journeys=self.journeys,
            progress=self.progress,
            timers=self.timers,
            mail=self.mailer,
            facts=nobody,
            editor=nobody,
            resolver=nobody,
            resume=nobody,
            clock=self.clock,
        )
        self.outcomes: Counter[str] = Counter()

    def run(self, n: int) -> tuple[float, float]:
        """Seconds to enter `n` contacts, seconds to fire every timer."""
        at = time.perf_counter()
        for i in range(n):
            self.outcomes[self.runner.handle(delivery(i))] += 1
        entered = time.perf_counter() - at
        self.clock.advance(DAY + 600)
        due = list(self.timers.timers.values())  # as the Scheduler delivers them: one message each
        at = time.perf_counter()
        for timer in due:
            self.outcomes[self.runner.handle(TimerFire.model_validate(timer.payload))] += 1
        return entered, time.perf_counter() - at


def bare(n: int) -> float:
    """The floor: the same Progress objects the runner writes for each contact (its entry, four
    moves), built and stored in a dict, no runner. Seconds."""
    store: dict[tuple[str, str], Progress] = {}
    until = T0 + timedelta(days=1)
    at = time.perf_counter()
    for i in range(n):
        key = (JOURNEY_ID, contact_id(i))
        p = Progress(
            journey_id=JOURNEY_ID,
            contact_id=key[1],
            version=1,
            entry=1,
            status="active",
            step="welcome",
            seq=0,
            entered_at=T0,
            updated_at=T0,
            entry_events=[f"{i:024x}"],
        )
        store[key] = p
        store[key] = p = p.model_copy(update={"seq": 1, "rev": 1, "step": "pause", "waiting": None, "updated_at": T0})
        waiting = Waiting(until=until)
        store[key] = p.model_copy(
            update={"seq": 2, "rev": 2, "status": "waiting", "waiting": waiting, "updated_at": T0}
        )
    for key, p in store.items():
        store[key] = p = p.model_copy(
            update={"seq": 3, "rev": 3, "status": "active", "step": "followup", "waiting": None, "updated_at": until}
        )
        store[key] = p.model_copy(update={"seq": 4, "rev": 4, "status": "done", "step": None, "outcome": "completed"})
    return time.perf_counter() - at


def stored_progress_bytes(run: MemoryRun) -> int:
    """tracemalloc's size of `n` finished Progress items alone, in a dict: copies of the run's."""
    items = list(run.progress.items.values())
    tracemalloc.start()
    copies = {(p.journey_id, p.contact_id): p.model_copy(deep=True) for p in items}
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del copies
    return size


def report_memory(n: int, moto: MotoFigures | None) -> None:
    print(f"\n-- part 2, in memory: {n:,} contacts, the shipped JourneyRunner over counting in-memory ports")
    base_seconds = bare(n)
    timed = MemoryRun()
    with labelled(timed.calls):
        entered, fired = timed.run(n)
    rate = n / (entered + fired)
    base_rate = n / base_seconds
    print(
        f"throughput: {rate:,.0f} contacts/s through the whole journey (entry {n / entered:,.0f}/s, timer fires "
        f"{n / fired:,.0f}/s); baseline (the same Progress objects built and stored, no runner) "
        f"{base_rate:,.0f} contacts/s: runner = {rate / base_rate:.3f} x the baseline ({base_rate / rate:.1f}x slower)"
    )
    print("   (the runner's timing includes the bench's counting: a dict increment per port call, a label per step)")
    print(f"outcomes: {dict(sorted(timed.outcomes.items()))}; moves refused: {timed.progress.lost}")
    mails = [timed.mailer.mails.get(contact_id(i), 0) for i in range(n)]
    _report_mails("mails per contact", mails, 2)
    print(f"timers set: {sum(v for (_, c), v in timed.calls.by.items() if c == 'timers.set'):,}")

    ports = sorted({c for _, c in timed.calls.by})
    per_call = moto.per_call() if moto else {}
    fallback = _by_port(per_call)
    labels = [label for label, _ in ROWS]
    print("port calls per contact per step (measured), and DynamoDB requests per contact per step (derived*):")
    print(f"{'':24}" + "".join(f"{label:>10}" for label in labels) + f"{'journey':>10}")
    for port in ports:
        row = [timed.calls.by.get((label, port), 0) / n for label in labels]
        print(f"{port:24}" + "".join(f"{v:10.2f}" for v in row) + f"{sum(row):10.2f}")
    derived = [
        sum(
            timed.calls.by.get((label, port), 0)
            / n
            * sum((per_call.get((label, port)) or fallback.get(port) or {}).values())
            for port in ports
        )
        for label in labels
    ]
    if moto:
        print(f"{'DynamoDB requests*':24}" + "".join(f"{v:10.2f}" for v in derived) + f"{sum(derived):10.2f}")
    print(
        "   (timer = the pause step's timer firing; steps: "
        + "; ".join(f"{label} = {title}" for label, title in ROWS)
        + ")"
    )
    print(
        "* DERIVED, not measured: these port calls times the moto pass's DynamoDB requests per call of the same "
        f"port method at the same step; {sum(derived) * n:,.0f} DynamoDB requests for {n:,} contacts"
        if moto
        else "* no moto pass this run: nothing to derive DynamoDB requests from"
    )

    traced = MemoryRun()
    tracemalloc.start()
    with labelled(traced.calls):
        traced.run(n)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    alone = stored_progress_bytes(traced)
    timers = len(traced.timers.timers)
    print(
        f"peak memory (tracemalloc, a second run): {peak / 2**20:,.1f} MiB for {n:,} contacts "
        f"({peak / n:,.0f} B each); {n:,} stored Progress items alone: {alone / 2**20:,.1f} MiB: "
        f"peak = {peak / alone:.2f} x the stored items (the run also keeps {timers:,} timers and "
        f"{len(traced.mailer.claims):,} mail claims)"
    )
    print(
        f"   of the peak, {kept / 2**20:,.1f} MiB are still held at the end (the in-memory stores: progress, "
        f"timers, claims, counters); the rest, {(peak - kept) / 2**20:,.2f} MiB, is transient (the runner's work, and the bench's list of due timers)"
    )


def _by_port(per_call: dict[tuple[str, str], dict[str, float]]) -> dict[str, dict[str, float]]:
    """Requests per call of a port method over every step (for a step the moto pass did not see)."""
    found: dict[str, list[float]] = {}
    for (_, port), ops in per_call.items():
        found.setdefault(port, []).append(sum(ops.values()))
    return {port: {"any": statistics.mean(v)} for port, v in found.items()}


PROPERTY_EXAMPLES = int(os.environ.get("BENCH_JOURNEY_PROPERTY_EXAMPLES", "3000"))


def main() -> None:
    started = time.perf_counter()
    print(
        "Settings: BENCH_JOURNEY_MOTO_CONTACTS="
        f"{MOTO_CONTACTS} (moto, the shipped functions end to end), BENCH_JOURNEY_CONTACTS={CONTACTS:,} "
        "(in memory, the shipped JourneyRunner)"
    )
    print(
        "Journey: welcome (send_mail) -> pause (wait 1 day) -> followup (send_mail); entry on "
        f"ContactCaptured.v1 with tags = {TAG!r}. Baseline on moto: a triggered campaign on "
        "ContactCaptured.v1 (no segment, the same template) mailing as many other contacts."
    )
    moto = run_moto(MOTO_CONTACTS) if MOTO_CONTACTS else None
    if moto:
        report_moto(moto)
    report_memory(CONTACTS, moto)
    report_property(PROPERTY_EXAMPLES)
    print(f"\njourneys bench took {time.perf_counter() - started:.0f} s")


def report_property(examples: int) -> None:
    """The property test (runner against the pure interpreter, with duplicates, crashes and races)
    for far more examples than the suite's 60: what it printed, and how long it took."""
    if not examples:
        return
    print(f"\n-- part 3, the property test at {examples:,} examples (the suite runs 60)")
    began = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/journeys/test_property.py"],
        env={**os.environ, "JOURNEY_PROPERTY_EXAMPLES": str(examples)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"   {last}; {examples / seconds:,.0f} examples/s over {seconds:.0f} s (exit {run.returncode})")
    if run.returncode:
        print(run.stdout[-3000:])


if __name__ == "__main__":
    main()
