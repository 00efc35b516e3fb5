"""`make bench ONLY=campaigns`: a 100,000-recipient campaign, printed as figures; nothing is asserted.

What runs for real and what is simulated (the output says it again):
- The shipped planner (`CampaignRuns`), sender (`Sender`), rate limiter (`RateLimiter`) and membership
  projection, unchanged, in this process.
- Their stores are the in-memory ports the unit tests use (tests/unit/campaigns/fakes.py: the same
  conditional-write rules as the DynamoDB adapters, which tests/integration/test_campaign_ports.py
  checks side by side). moto is far too slow for 100,000 recipients (its GSI Query reads every item
  of the table), so a separate small pass runs the real handlers and DynamoDB adapters on moto to
  count the calls they make.
- Concurrent senders are threads (one `Sender` each, as one warm Lambda container each); the send
  queue is an in-process queue that redelivers incomplete batches and, to mimic SQS's at-least-once
  delivery, delivers a share of batches twice.
- SES is a stand-in: a token bucket refilled at its own rate with one second of burst, refusing with
  MailThrottled when empty, taking a fixed latency per call (sleeping, so threads overlap).
"""

from __future__ import annotations

import bisect
import os
import queue
import random
import resource
import statistics
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.campaigns.errors import MailThrottled
from ecrm.campaigns.membership import MembershipService
from ecrm.campaigns.models import (
    CampaignDraft,
    Preferences,
    SegmentDraft,
    SendBatch,
    Suppression,
    TemplateDraft,
    address_key,
)
from ecrm.campaigns.ports import MemberPage
from ecrm.campaigns.ratelimit import RateLimiter
from ecrm.campaigns.runs import CampaignRuns, PlanCommand
from ecrm.campaigns.segments import IndexQuery
from ecrm.campaigns.sending import BatchResult, Sender, SenderConfig
from ecrm.campaigns.service import CampaignService, SegmentService, TemplateService
from ecrm.clock import SystemClock
from ecrm.mail import Mail
from ecrm.signing import Signer

from tests.bench.sink import quiet
from tests.unit.campaigns.fakes import (
    MemoryCampaigns,
    MemoryContacts,
    MemoryDirectory,
    MemoryIndex,
    MemoryPreferences,
    MemoryRepo,
    MemoryRuns,
    MemorySendRecords,
    MemorySlots,
    MemoryStats,
    MemorySuppressions,
    MemoryTimers,
)
from tests.unit.campaigns.world import HTML, LINKS, TEXT, make_contact
from tests.unit.fakes import RecordingPublisher

RECIPIENTS = int(os.environ.get("BENCH_CAMPAIGN_RECIPIENTS", "100000"))
RATE = int(os.environ.get("BENCH_CAMPAIGN_RATE", "1000"))  # configured send rate, mails/s
SENDERS = int(os.environ.get("BENCH_CAMPAIGN_SENDERS", "16"))  # concurrent senders (threads)
SES_LATENCY = float(os.environ.get("BENCH_SES_LATENCY_MS", "12")) / 1000
DOUBLE_DELIVERY = 0.01  # share of batches SQS hands out twice
UNSUBSCRIBED = 0.005  # share of recipients unsubscribed from the topic
SUPPRESSED = 0.005  # share whose address bounced (found on the suppression list at send time)
LOW_QUOTA_RECIPIENTS = int(os.environ.get("BENCH_CAMPAIGN_LOW_QUOTA_RECIPIENTS", "20000"))
MOTO_RECIPIENTS = int(os.environ.get("BENCH_CAMPAIGN_MOTO_RECIPIENTS", "100"))


SIMULATED = """Simulated, said plainly: the shipped planner, sender, rate limiter and membership code run
unchanged, but on the in-memory stores the unit tests use (same conditional-write rules as the
DynamoDB adapters; moto is far too slow at 100,000), with threads as concurrent senders, an
in-process queue that redelivers (and sometimes delivers twice), and a token-bucket SES stand-in.
A last, small pass runs the real handlers and adapters on moto to count their AWS calls."""


class SortedIndex(MemoryIndex):
    """The fake's index with its partitions kept sorted (bisect), so 1,000 pages of a 100,000-item
    partition are not 1,000 full sorts: same answers as MemoryIndex.query, one Query per call."""

    def __init__(self, contacts: MemoryContacts) -> None:
        super().__init__(contacts)
        self._sorted: dict[str, list[str]] = {}

    def store(self, member: Any, keys: frozenset[str], previous: frozenset[str], expected_version: int) -> None:
        super().store(member, keys, previous, expected_version)
        for partition in keys | previous:
            self._sorted.pop(partition, None)

    def query(self, query: IndexQuery, limit: int, cursor: str | None) -> MemberPage:
        self.queries.append(query)
        items = self.partitions.get(query.partition, {})
        keys = self._sorted.get(query.partition)
        if keys is None:
            keys = self._sorted[query.partition] = sorted(items)
        lo = bisect.bisect_right(keys, cursor) if cursor else bisect.bisect_left(keys, query.range.lower or "")
        hi = bisect.bisect_left(keys, query.range.upper) if query.range.upper else len(keys)
        page = keys[lo : min(lo + limit, hi)]
        more = lo + limit < hi
        return MemberPage([items[k] for k in page], page[-1] if more and page else None)


class TokenBucketSes:
    """The SES stand-in: `rate` sends per second with one second of burst; empty bucket -> throttled."""

    def __init__(self, rate: float, latency: float) -> None:
        self.rate = rate
        self.latency = latency
        self._tokens = rate
        self._at = time.monotonic()
        self._lock = threading.Lock()
        self.accepted: list[tuple[float, str, str]] = []  # (time SES took it, campaign, contact)
        self.started: list[float] = []  # when each accepted call left the sender
        self.throttled = 0

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        left = time.time()
        time.sleep(self.latency / 2)  # the request on its way
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                self.throttled += 1
                raise MailThrottled("Maximum sending rate exceeded.")
            self._tokens -= 1
            self.accepted.append((time.time(), tags["ecrm_campaign"], tags["ecrm_contact"]))
            self.started.append(left)
            message_id = f"m-{len(self.accepted)}"
        time.sleep(self.latency / 2)  # the answer on its way back
        return message_id


class WallClock(SystemClock):
    """Real time (time.sleep moves it): the limiter's slots are real seconds."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Backend:
    clock: WallClock = field(default_factory=WallClock)

    def __post_init__(self) -> None:
        self.contacts = MemoryContacts()
        self.index = SortedIndex(self.contacts)
        self.stats = MemoryStats()
        self.records = MemorySendRecords(self.stats)
        self.runs_store = MemoryRuns(self.stats)
        self.slots = MemorySlots()
        self.bus = RecordingPublisher()
        self.preferences = MemoryPreferences(self.contacts, self.bus)
        self.suppressions = MemorySuppressions(self.bus)
        self.campaigns = MemoryCampaigns(self.bus)
        self.templates: MemoryRepo[Any] = MemoryRepo()
        self.segments: MemoryRepo[Any] = MemoryRepo()
        self.timers = MemoryTimers()
        self.signer = Signer(b"bench-key-" * 4)
        self.directory = MemoryDirectory(self.contacts, self.preferences, self.suppressions, self.index)

    def runs(self, outbox: Any) -> CampaignRuns:
        return CampaignRuns(
            campaigns=self.campaigns,
            segments=self.segments,
            index=self.index,
            runs=self.runs_store,
            queue=outbox,
            stats=self.stats,
            timers=self.timers,
            clock=self.clock,
        )

    def sender(self, ses: TokenBucketSes, rate: int, outbox: Any) -> Sender:
        return Sender(
            campaigns=self.campaigns,
            templates=self.templates,
            recipients=self.directory,
            records=self.records,
            runs=self.runs_store,
            mailer=ses,
            limiter=RateLimiter(self.slots, self.clock, rate=rate),
            sleeper=self.clock,
            clock=self.clock,
            signer=self.signer,
            link_base=LINKS,
            finisher=self.runs(outbox),
            config=SenderConfig(),
            rng=random.Random(),
        )


def populate(backend: Backend, n: int, tag: str) -> tuple[int, int]:
    """`n` confirmed contacts tagged `tag`, projected into the index by the real membership code;
    some unsubscribed from the topic, some with a bounced address. Returns (unsubscribed, suppressed)."""
    projection = MembershipService(backend.contacts, backend.index)
    at = datetime.now(UTC) - timedelta(days=1)
    unsubscribed = suppressed = 0
    for i in range(1, n + 1):
        contact = make_contact(i, tags=(tag,), created=at - timedelta(seconds=i))
        backend.contacts.add(contact)
        projection.refresh(contact.id)
        if i % int(1 / UNSUBSCRIBED) == 0:
            prefs = Preferences(contact_id=contact.id, unsubscribed=frozenset({"newsletter"}), version=1)
            backend.preferences.save(prefs, 0)
            unsubscribed += 1
        elif i % int(1 / SUPPRESSED) == 1:
            entry = Suppression(address_key=address_key(contact.email), reason="bounced", at=at, contact_id=contact.id)
            backend.suppressions.add(contact.email, entry)
            suppressed += 1
    return unsubscribed, suppressed


def campaign(backend: Backend, tag: str) -> str:
    """A template, a segment and a one-off campaign, armed and due now (the API's own services)."""
    templates = TemplateService(backend.templates, backend.contacts, LINKS, backend.clock)
    template = templates.create(TemplateDraft(name="T", subject="News for {{ first_name }}", html=HTML, text=TEXT))
    segment = SegmentService(backend.segments, backend.index, backend.clock).create(
        SegmentDraft.model_validate({"name": "S", "rules": {"include": [{"kind": "tag", "any_of": [tag]}]}})
    )
    service = CampaignService(
        campaigns=backend.campaigns,
        templates=backend.templates,
        segments=backend.segments,
        runs=backend.runs(DiscardingQueue()),
        timers=backend.timers,
        recurring=backend.timers,
        stats=backend.stats,
        clock=backend.clock,
    )
    at = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    draft = CampaignDraft.model_validate(
        {"name": "C", "template_id": template.id, "segment_id": segment.id, "schedule": {"kind": "one_off", "at": at}}
    )
    created = service.create(draft, owner="bench")
    service.schedule(created.id)
    backend.timers.timers.clear()  # the bench starts the run itself
    return created.id


class DiscardingQueue:
    """SQS as the planner sees it: messages leave the process (counted, serialized, dropped)."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    def enqueue(self, batches: Sequence[SendBatch]) -> None:
        for batch in batches:
            self.messages += 1
            self.bytes += len(batch.model_dump_json())


class SendQueue:
    """SQS for the senders: at-least-once (a share of batches is delivered twice), and a batch that
    came back incomplete is delivered again after a pause (the visibility timeout, scaled down)."""

    def __init__(self, double: float, seed: int = 11) -> None:
        self._q: queue.Queue[SendBatch | None] = queue.Queue()
        self._rng = random.Random(seed)
        self._double = double
        self.doubled = 0
        self.redelivered = 0
        self._timers: list[threading.Timer] = []

    def enqueue(self, batches: Sequence[SendBatch]) -> None:
        for batch in batches:
            self._q.put(batch)
            if self._rng.random() < self._double:
                self._q.put(batch)
                self.doubled += 1

    def redeliver_later(self, batch: SendBatch, delay: float = 1.0) -> None:
        self.redelivered += 1
        timer = threading.Timer(delay, self._q.put, args=(batch,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def get(self, timeout: float) -> SendBatch | None:
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            return None

    def pending_retries(self) -> bool:
        return any(t.is_alive() for t in self._timers)


@dataclass
class SendFigures:
    recipients: int
    targeted: int
    seconds: float
    accepted: int
    per_second: list[int]  # calls leaving the senders in each whole second
    per_ses_second: list[int]  # mails SES took in each whole second (latency shifts some over)
    tokens_max: int  # most send tokens the shared limiter granted for one second (its guarantee)
    throttled: int
    duplicates: int
    lost: int
    doubled: int
    redelivered: int
    outcomes: Counter[str]
    query_calls: int


def send_campaign(n: int, rate: int, ses_rate: float, tag: str) -> SendFigures:
    backend = Backend()
    unsubscribed, suppressed = populate(backend, n, tag)
    cid = campaign(backend, tag)
    outbox = SendQueue(DOUBLE_DELIVERY)
    planner = backend.runs(outbox)
    planner.handle(PlanCommand(action="start", campaign_id=cid, run_id="once"), datetime.now(UTC) + timedelta(hours=1))
    ses = TokenBucketSes(ses_rate, SES_LATENCY)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    started = time.monotonic()

    def worker() -> None:
        sender = backend.sender(ses, rate, outbox)  # one warm container
        while True:
            batch = outbox.get(timeout=2.0)
            if batch is None:
                if outbox.pending_retries():
                    continue
                return
            result: BatchResult = sender.send(batch, backend.clock.now() + timedelta(seconds=120))
            with lock:
                outcomes.update(result.outcomes.values())
            if not result.complete:
                outbox.redeliver_later(batch)

    threads = [threading.Thread(target=worker, name=f"sender-{i}") for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted_at = [t for t, _, _ in ses.accepted]
    seconds = max(accepted_at) - min(accepted_at) if accepted_at else time.monotonic() - started
    per_contact = Counter((c, k) for _, c, k in ses.accepted)
    eligible = n - unsubscribed - suppressed
    stats = backend.stats.get(cid).total
    return SendFigures(
        recipients=n,
        targeted=stats.targeted,
        seconds=seconds,
        accepted=len(ses.accepted),
        per_second=_per_second(ses.started),
        per_ses_second=_per_second(accepted_at),
        tokens_max=max(backend.slots.used.values(), default=0),
        throttled=ses.throttled,
        duplicates=sum(count - 1 for count in per_contact.values() if count > 1),
        lost=eligible - len(per_contact),
        doubled=outbox.doubled,
        redelivered=outbox.redelivered,
        outcomes=outcomes,
        query_calls=len(backend.index.queries),
    )


def _per_second(times: list[float]) -> list[int]:
    """Sends per whole wall-clock second, first and last (partial) seconds left out."""
    counts = Counter(int(t) for t in times)
    seconds = sorted(counts)
    return [counts[s] for s in seconds[1:-1]]


# -- memory ------------------------------------------------------------------------------------


def planner_peak(n: int, tag: str) -> tuple[int, int, int]:
    """tracemalloc peak while the planner pages `n` recipients onto a queue that sends them away
    (as SQS does); returns (peak bytes, messages, Query calls)."""
    backend = Backend()
    populate(backend, n, tag)
    cid = campaign(backend, tag)
    outbox = DiscardingQueue()
    planner = backend.runs(outbox)
    tracemalloc.start()
    planner.handle(PlanCommand(action="start", campaign_id=cid, run_id="once"), datetime.now(UTC) + timedelta(hours=1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, outbox.messages, len(backend.index.queries)


def sender_peak(tag: str) -> int:
    """tracemalloc peak of one sender invocation: a fresh Sender (a cold container's composition)
    sending one batch of 100."""
    backend = Backend()
    populate(backend, 100, tag)
    cid = campaign(backend, tag)
    outbox = SendQueue(0)
    backend.runs(outbox).handle(
        PlanCommand(action="start", campaign_id=cid, run_id="once"), datetime.now(UTC) + timedelta(hours=1)
    )
    batch = outbox.get(timeout=1)
    assert batch is not None
    ses = TokenBucketSes(10_000, 0)
    tracemalloc.start()
    backend.sender(ses, 10_000, outbox).send(batch, backend.clock.now() + timedelta(seconds=120))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


# -- the baseline: this machine's raw sender throughput ----------------------------------------


def raw_throughput(n: int = 5000) -> float:
    """One sender, no rate limit, an SES stand-in that never waits or refuses: mails/s of CPU."""
    backend = Backend()
    populate(backend, n, "raw")
    cid = campaign(backend, "raw")
    outbox = SendQueue(0)
    backend.runs(outbox).handle(
        PlanCommand(action="start", campaign_id=cid, run_id="once"), datetime.now(UTC) + timedelta(hours=1)
    )
    sender = backend.sender(TokenBucketSes(10**9, 0), 10**9, outbox)
    started = time.perf_counter()
    while (batch := outbox.get(timeout=0.1)) is not None:
        sender.send(batch, backend.clock.now() + timedelta(seconds=120))
    return n / (time.perf_counter() - started)


# -- the moto pass: the real handlers and adapters, counting their AWS calls --------------------


def moto_calls(n: int) -> tuple[Counter[str], int, int]:
    """A campaign to `n` contacts through the shipped handlers on moto; every AWS call counted at
    botocore's boundary. Returns (calls by service.operation, mails sent, seconds)."""
    from botocore.client import BaseClient
    from ecrm_local import lambdas

    from tests.integration.campaigns_support import campaigns_stack

    calls: Counter[str] = Counter()
    inside = threading.local()  # count the functions' own calls, not the test pump's
    hook = "_make_api_call"  # botocore's one door for every API call of every client
    real, real_invoke = getattr(BaseClient, hook), lambdas.invoke

    def counted(self: Any, operation: str, params: Any) -> Any:
        if getattr(inside, "yes", False):
            calls[f"{self.meta.service_model.service_name}.{operation}"] += 1
        return real(self, operation, params)

    def invoke(name: str, event: dict[str, Any]) -> Any:
        inside.yes = True
        try:
            return real_invoke(name, event)
        finally:
            inside.yes = False

    with campaigns_stack(send_rate=1000) as stack, quiet():
        for i in range(1, n + 1):
            stack.contact(i, tags=("moto",))
        stack.pump()
        segment = stack.segment([{"kind": "tag", "any_of": ["moto"]}])
        cid = stack.campaign(stack.one_off_in(1), segment)
        stack.action(cid, "schedule")
        stack.advance(3601)
        setattr(BaseClient, hook, counted)
        lambdas.invoke = invoke
        started = time.perf_counter()
        try:
            stack.pump(only={"campaign_planner", "campaign_sender"})
        finally:
            setattr(BaseClient, hook, real)
            lambdas.invoke = real_invoke
        return calls, len(stack.mail()), int(time.perf_counter() - started)


# -- report --------------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:.2f} MiB"


def _report_send(title: str, f: SendFigures, rate: int, ses_rate: float) -> None:
    steady, ses_view = f.per_second or [0], f.per_ses_second or [0]
    achieved = f.accepted / f.seconds if f.seconds else 0.0
    print(f"\n-- {title}")
    print(
        f"recipients {f.recipients:,} | targeted {f.targeted:,} | mails accepted by SES {f.accepted:,} "
        f"over {f.seconds:.1f} s (first to last)"
    )
    print(
        f"configured rate {rate}/s, SES stand-in {ses_rate:.0f}/s | achieved {achieved:.0f}/s = "
        f"{achieved / rate:.3f} x configured ({achieved / min(rate, ses_rate):.3f} x the lower of the two)"
    )
    print(
        f"send tokens the shared limiter granted in any one second: max {f.tokens_max} (configured {rate}) | "
        f"accepted sends leaving the senders per whole second: median {statistics.median(steady):.0f}, "
        f"max {max(steady)}, min {min(steady)} over {len(steady)} s, >= 95 % of the rate in "
        f"{sum(1 for c in steady if c >= 0.95 * rate)} of them"
    )
    print(
        f"mails SES took per whole second (its clock, after the latency): max {max(ses_view)}, "
        f"median {statistics.median(ses_view):.0f}"
    )
    print(
        f"SES throttled calls: {f.throttled:,} (each retried) | batches handed back to the queue: "
        f"{f.redelivered:,} | batches SQS delivered twice: {f.doubled:,}"
    )
    print(
        f"throttling losses (eligible, never mailed): {f.lost:,} | duplicates (a 2nd mail to one contact): "
        f"{f.duplicates:,}"
    )
    print(f"sender outcomes: {dict(sorted(f.outcomes.items()))} | segment Query calls: {f.query_calls:,} (Scan: 0)")


def main() -> None:
    print(SIMULATED)
    started = time.perf_counter()
    raw = raw_throughput()
    print(
        f"baseline: one sender's raw throughput on this machine (no limiter, SES answering at once): {raw:,.0f} mails/s"
    )
    print(
        f"configured rate {RATE}/s = {RATE / raw:.2f} x that baseline; {SENDERS} senders, SES latency {SES_LATENCY * 1000:.0f} ms"
    )

    full = send_campaign(RECIPIENTS, RATE, RATE, "news")
    _report_send(f"{RECIPIENTS:,} recipients, SES quota = configured rate", full, RATE, RATE)
    low = send_campaign(LOW_QUOTA_RECIPIENTS, RATE, RATE * 0.8, "low")
    _report_send(
        f"{LOW_QUOTA_RECIPIENTS:,} recipients, SES quota lowered to 80 % under us (throttling must be retried)",
        low,
        RATE,
        RATE * 0.8,
    )

    peak_plan, messages, queries = planner_peak(RECIPIENTS, "mem")
    peak_send = sender_peak("mem")
    print("\n-- memory (tracemalloc peak of Python allocations during the call; separate pass)")
    print(f"planner, {RECIPIENTS:,} recipients -> {messages:,} messages, {queries:,} Query calls: {_mib(peak_plan)}")
    print(f"sender, one invocation (fresh composition, one batch of 100): {_mib(peak_send)}")
    print(
        f"process max RSS so far (includes the in-memory stand-in tables): {_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}"
    )

    calls, mailed, seconds = moto_calls(MOTO_RECIPIENTS)
    print(
        f"\n-- real handlers and DynamoDB/SQS/SES adapters on moto: {MOTO_RECIPIENTS} recipients, planner + sender ({seconds} s)"
    )
    print(f"mails sent: {mailed} | AWS calls by operation: {dict(sorted(calls.items()))}")
    scans = sum(c for op, c in calls.items() if op.endswith(".Scan"))
    per = {op: c / MOTO_RECIPIENTS for op, c in calls.items() if op.startswith("dynamodb.")}
    queries = calls.get("dynamodb.Query", 0)
    print(
        f"dynamodb Scan calls: {scans} | Query calls: {queries} | dynamodb calls per recipient: {sum(per.values()):.2f}"
    )
    print(f"\ncampaigns bench took {time.perf_counter() - started:.0f} s")
