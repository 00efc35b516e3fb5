"""`make bench ONLY=sendrate`: the campaign sender as deployed, at the configured send rate.

A simulation of the deployed shape (tests/bench/bench_campaigns.py measures the same code on the
in-memory stores at real time with a fixed number of threads; this one runs what the CDK app would
deploy for each rate, `send_shape.sender_shape`):

- The shipped `Sender`, `RateLimiter` and planner (`CampaignRuns`), unchanged, one `Sender` per
  Lambda container with the shape's lanes (each lane a thread on the simulated clock), on the
  in-memory stores of the unit tests.
- The send queue as SQS behaves: a received message is invisible for the visibility timeout, comes
  back after it unless deleted, moves to the DLQ on its 6th receive (maxReceiveCount 5); 1 % of
  messages are delivered twice (at-least-once).
- The event source mapping as Lambda runs it: one message per invocation (the batch size), at most
  the derived MaximumConcurrency at once, starting with 5 and adding 300 a minute (AWS's documented
  scaling for standard queues), the function timeout as the sender's deadline; a batch reported
  failed stays on the queue.
- SES that takes at most its maximum send rate: a token bucket at the rate with one second of burst,
  answering `Throttling: Maximum sending rate exceeded` when empty.
- Latency, on the simulated clock: SES SendEmail 80 ms; DynamoDB per call: claim 8 ms, completion
  12 ms, a rate-token take 5 ms, the batch reads 10 and 20 ms, a batch's completion 10 ms; a cold
  start of 1 s per container.

Time is simulated: every sender is a thread, and the clock moves only when all of them wait (on a
call's latency, for the next second's tokens, for a message), to the earliest wake-up. The code runs
between those instants in no simulated time. At 1,000 mails/s for minutes, real time would need
~160 threads (20 senders of 8 lanes) doing 1,000 real sends a second on two shared cores: what would
be measured then is this machine's scheduler, not the design. The simulated clock is also what makes the run the same
every time (up to thread interleaving at one instant).
"""

from __future__ import annotations

import heapq
import itertools
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.campaigns.errors import MailThrottled
from ecrm.campaigns.models import SendBatch
from ecrm.campaigns.ratelimit import RateLimiter
from ecrm.campaigns.runs import PlanCommand
from ecrm.campaigns.sending import Sender, SenderConfig, in_threads
from ecrm.mail import Mail
from ecrm_infra.topology.send_shape import (
    CPU_SECONDS_PER_MAIL,
    LANES,
    PER_MAIL_SECONDS,
    VCPU_MB,
    SenderShape,
    sender_shape,
)

from tests.bench.bench_campaigns import Backend, TokenBucketSes, WallClock, campaign, populate
from tests.unit.campaigns.world import LINKS

# rate -> recipients: each send long enough (~1.5-3.5 simulated minutes) that Lambda's ramp is a
# part of it, not all of it.
RUNS = tuple(
    (int(rate), int(n))
    for rate, n in (
        pair.split(":") for pair in os.environ.get("BENCH_SENDRATE_RUNS", "14:3000,200:30000,1000:100000").split(",")
    )
)
SES_SECONDS = float(os.environ.get("BENCH_SENDRATE_SES_MS", "80")) / 1000
DYNAMO_SECONDS = {"claim": 0.008, "complete": 0.012, "take": 0.005, "existing": 0.010, "recipients": 0.020}
BATCH_DONE_SECONDS = 0.010
COLD_START_SECONDS = 1.0
MAX_RECEIVES = 5
DOUBLE_DELIVERY = 0.01
FIRST_INVOCATIONS, MORE_PER_SECOND = 5, 300 / 60  # Lambda's SQS scaling, standard queues


class SimulatedClock(WallClock):
    """A clock shared by threads that moves only when every one of them waits: to the earliest wake-up."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._running = 0
        self._wakeups: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def time(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        woken = threading.Event()
        with self._lock:
            heapq.heappush(self._wakeups, (self._now + max(seconds, 0.0), next(self._order), woken))
            self._running -= 1
            self._move()
        woken.wait()

    def _move(self) -> None:
        if self._running or not self._wakeups:
            return
        self._now = max(self._now, self._wakeups[0][0])
        while self._wakeups and self._wakeups[0][0] <= self._now:
            _, _, woken = heapq.heappop(self._wakeups)
            self._running += 1
            woken.set()

    def fork(self, bodies: Sequence[Callable[[], None]]) -> None:
        """The sender's `fork` on this clock: the caller waits for its bodies (not on the clock), and
        the last body to finish hands its place back to the caller, so no instant is skipped."""
        left = [len(bodies)]

        def handing_back() -> None:
            left[0] -= 1
            if left[0]:  # the last one's place becomes the caller's again
                self._running -= 1
                self._move()

        with self._lock:
            self._running += len(bodies) - 1  # the caller stops running while its bodies do
        in_threads([self._on_clock(body, handing_back) for body in bodies])

    def run(self, bodies: Sequence[Callable[[], None]]) -> None:
        """Runs each body in a thread of its own on this clock; returns when all are done."""

        def leaving() -> None:
            self._running -= 1
            self._move()

        with self._lock:
            self._running += len(bodies)
        in_threads([self._on_clock(body, leaving) for body in bodies])

    def _on_clock(self, body: Callable[[], None], done: Callable[[], None]) -> Callable[[], None]:
        def counted() -> None:
            try:
                body()
            finally:
                with self._lock:
                    done()

        return counted


class Slow:
    """A store whose named calls take simulated time (half on the way there, half back)."""

    def __init__(self, inner: Any, clock: SimulatedClock, seconds: Mapping[str, float]) -> None:
        self._inner, self._clock, self._seconds = inner, clock, seconds

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        delay = self._seconds.get(name)
        if delay is None:
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self._clock.sleep(delay / 2)
            answer = found(*args, **kwargs)
            self._clock.sleep(delay / 2)
            return answer

        return call


class RateEnforcingSes:
    """SES at its maximum send rate: a bucket of `rate` tokens (one second of burst) refilled at
    `rate` a second; a call finding it empty is refused as SES refuses it."""

    def __init__(self, clock: SimulatedClock, rate: float, latency: float) -> None:
        self._clock, self.rate, self._latency = clock, rate, latency
        self._tokens, self._at = rate, clock.time()
        self._lock = threading.Lock()
        self.accepted: list[tuple[float, str]] = []  # (when SES took it, contact)
        self.throttled = 0

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        self._clock.sleep(self._latency / 2)
        with self._lock:
            now = self._clock.time()
            self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                self.throttled += 1
                raise MailThrottled("Throttling: Maximum sending rate exceeded.")
            self._tokens -= 1
            self.accepted.append((now, tags["ecrm_contact"]))
            message_id = f"m-{len(self.accepted)}"
        self._clock.sleep(self._latency / 2)
        return message_id


@dataclass(order=True)
class Message:
    visible_at: float
    number: int
    batch: SendBatch = field(compare=False)
    receives: int = field(default=0, compare=False)
    deleted: bool = field(default=False, compare=False)


class SimulatedSqs:
    """The send queue with SQS's visibility timeout, receive count, redrive to a DLQ, and a share of
    messages delivered twice."""

    def __init__(
        self, clock: SimulatedClock, visibility: float, double: float = DOUBLE_DELIVERY, seed: int = 7
    ) -> None:
        self._clock, self._visibility, self._double = clock, visibility, double
        self._heap: list[Message] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._rng = random.Random(seed)
        self.live = 0
        self.dead: list[Message] = []
        self.doubled = self.received = self.handed_back = 0
        self.drained_at: float | None = None

    def enqueue(self, batches: Sequence[SendBatch]) -> None:  # the planner's port
        with self._lock:
            for batch in batches:
                self._put(batch)

    def _put(self, batch: SendBatch) -> None:
        heapq.heappush(self._heap, Message(self._clock.time(), next(self._numbers), batch))
        self.live += 1

    def receive(self) -> Message | None:
        with self._lock:
            while self._heap and self._heap[0].deleted:
                heapq.heappop(self._heap)
            if not self._heap or self._heap[0].visible_at > self._clock.time():
                if self.drained_at is None:  # every message is out with a sender: the tail begins
                    self.drained_at = self._clock.time()
                return None
            message = heapq.heappop(self._heap)
            if message.receives == MAX_RECEIVES:  # its 6th receive: redriven to the DLQ instead
                self.dead.append(message)
                self.live -= 1
                return None
            message.receives += 1
            self.received += 1
            message.visible_at = self._clock.time() + self._visibility
            heapq.heappush(self._heap, message)
            if self._rng.random() < self._double:  # at-least-once: another copy is handed out too
                self._put(message.batch)
                self.doubled += 1
            return message

    def delete(self, message: Message) -> None:
        with self._lock:
            message.deleted = True
            self.live -= 1

    def back(self) -> None:
        with self._lock:
            self.handed_back += 1

    def empty(self) -> bool:
        return self.live == 0

    def next_visible(self) -> float | None:
        with self._lock:
            live = [m.visible_at for m in self._heap if not m.deleted]
            return min(live) if live else None


@dataclass
class Figures:
    rate: int
    shape: SenderShape
    recipients: int
    eligible: int
    accepted: list[tuple[float, str]]
    throttled: int
    dead: int
    doubled: int
    received: int
    handed_back: int
    invocations: int
    peak_busy: int
    ramp_end: float
    drained_at: float
    start: float
    wall: float
    token_writes: int
    tokens_max: int

    def mailed(self) -> Counter[str]:
        return Counter(contact for _, contact in self.accepted)

    def rates(self) -> tuple[float, float, float]:
        """Achieved mails/s over the whole send (first mail to last); sustained: from the moment
        Lambda may run every sender to the moment no message waits any more (every one is out with
        a sender); and the median per whole second of that stretch."""
        times = [t for t, _ in self.accepted]
        first, last = min(times), max(times)
        whole = len(times) / (last - first)
        start, end = max(self.ramp_end, first), self.drained_at
        sustained = [t for t in times if start <= t < end]
        rate = len(sustained) / (end - start) if end - start >= 2 else whole
        per_second = Counter(int(t) for t in sustained)
        seconds = sorted(per_second)[1:-1] or sorted(per_second)
        return whole, rate, statistics.median(per_second[s] for s in seconds) if seconds else 0.0


def simulate(rate: int, recipients: int, tag: str) -> Figures:
    wall = time.perf_counter()
    shape = sender_shape(rate)
    clock = SimulatedClock(time.time())
    backend = Backend(clock=clock)
    unsubscribed, suppressed = populate(backend, recipients, tag)
    cid = campaign(backend, tag)
    sqs = SimulatedSqs(clock, shape.visibility_timeout_seconds)
    # The planner pages the whole segment onto the queue first (in AWS it runs ahead of the
    # senders: a page is one Query, one SendMessage and one transaction).
    backend.runs(sqs).handle(
        PlanCommand(action="start", campaign_id=cid, run_id="once"), clock.now() + timedelta(hours=1)
    )
    ses = RateEnforcingSes(clock, rate, SES_SECONDS)
    start = clock.time()
    invocations = busy = peak_busy = 0
    counter_lock = threading.Lock()
    slow_records = Slow(backend.records, clock, DYNAMO_SECONDS)
    slow_slots = Slow(backend.slots, clock, DYNAMO_SECONDS)
    slow_directory = Slow(backend.directory, clock, DYNAMO_SECONDS)
    slow_runs = Slow(backend.runs_store, clock, {"complete_batch": BATCH_DONE_SECONDS})

    def container() -> Sender:
        return Sender(
            campaigns=backend.campaigns,
            templates=backend.templates,
            recipients=slow_directory,
            records=slow_records,
            runs=slow_runs,
            mailer=ses,
            limiter=RateLimiter(slow_slots, clock, rate=rate),
            sleeper=clock,
            clock=clock,
            signer=backend.signer,
            link_base=LINKS,
            finisher=backend.runs(sqs),
            config=SenderConfig(lanes=shape.lanes),
            rng=random.Random(),
            fork=clock.fork,
        )

    def concurrency_slot(n: int) -> Callable[[], None]:
        def poll() -> None:
            nonlocal invocations, busy, peak_busy
            # Lambda adds invocations as messages wait: 5 at first, then 300 more a minute.
            clock.sleep(max(0.0, (n - FIRST_INVOCATIONS + 1) / MORE_PER_SECOND))
            sender: Sender | None = None
            while not sqs.empty():
                message = sqs.receive()
                if message is None:  # long polling: wait for a message to become visible
                    upcoming = sqs.next_visible()
                    clock.sleep(max(0.05, (upcoming or clock.time()) - clock.time()))
                    continue
                if sender is None:
                    clock.sleep(COLD_START_SECONDS)
                    sender = container()
                with counter_lock:
                    invocations += 1
                    busy += 1
                    peak_busy = max(peak_busy, busy)
                result = sender.send(message.batch, clock.now() + timedelta(seconds=shape.timeout_seconds))
                with counter_lock:
                    busy -= 1
                if result.complete:
                    sqs.delete(message)
                else:  # a batch item failure: SQS hands the message out again after its visibility timeout
                    sqs.back()

        return poll

    clock.run([concurrency_slot(n) for n in range(shape.concurrency)])
    return Figures(
        rate=rate,
        shape=shape,
        recipients=recipients,
        eligible=recipients - unsubscribed - suppressed,
        accepted=ses.accepted,
        throttled=ses.throttled,
        dead=len(sqs.dead),
        doubled=sqs.doubled,
        received=sqs.received,
        handed_back=sqs.handed_back,
        invocations=invocations,
        peak_busy=peak_busy,
        ramp_end=start + max(0.0, (shape.concurrency - FIRST_INVOCATIONS) / MORE_PER_SECOND),
        drained_at=sqs.drained_at or clock.time(),
        start=start,
        wall=time.perf_counter() - wall,
        token_writes=backend.slots.writes,
        tokens_max=max(backend.slots.used.values(), default=0),
    )


def report(f: Figures) -> tuple[str, ...]:
    whole, steady, median = f.rates()
    mailed = f.mailed()
    duplicates = sum(n - 1 for n in mailed.values() if n > 1)
    lost = f.eligible - len(mailed)
    last = max(t for t, _ in f.accepted)
    seconds = last - f.start
    return (
        f"{f.rate:>5}",
        f"{f.shape.concurrency:>4}x{f.shape.lanes}/{f.shape.timeout_seconds}s/{f.shape.visibility_timeout_seconds}s",
        f"{f.eligible:>7,}",
        f"{seconds:>6.0f}",
        f"{whole:>7.1f}",
        f"{whole / f.rate:>5.3f}",
        f"{steady:>7.1f}",
        f"{steady / f.rate:>5.3f}",
        f"{median:>6.0f}",
        f"{max(0.0, f.ramp_end - f.start):>4.0f}",
        f"{last - f.drained_at:>4.0f}",
        f"{f.throttled:>5,}",
        f"{lost:>4,}",
        f"{duplicates:>4,}",
        f"{f.dead:>3}",
        f"{f.handed_back:>4}",
        f"{f.doubled:>3}",
        f"{f.peak_busy:>4}",
        f"{f.tokens_max:>5}",
        f"{f.token_writes / seconds:>6.0f}",
        f"{f.wall:>5.0f}",
    )


HEADER = (
    "rate",
    "senders x lanes/timeout/visibility",
    "eligible",
    "sim s",
    "achieved",
    "ratio",
    "sustained",
    "ratio",
    "median",
    "ramp s",
    "tail s",
    "throttled",
    "lost",
    "dup",
    "DLQ",
    "back",
    "2x",
    "busy",
    "tokens/s max",
    "token writes/s",
    "wall s",
)


CPU_MAILS = int(os.environ.get("BENCH_SENDRATE_CPU_MAILS", "2000"))


def _short_circuited(service: str, body: bytes) -> Any:
    """A boto3 client whose requests are built, signed and parsed, but answered here with `body`
    instead of leaving the process: its client-side CPU, without a network or a server."""
    import boto3
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield body

        def read(self, *_: Any, **__: Any) -> bytes:
            return body

    client: Any = boto3.session.Session().client(service, region_name="us-east-1")  # type: ignore[call-overload]

    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = HTTPHeaders()
        headers["content-type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 200, headers, Raw())

    client.meta.events.register("before-send", answer)
    return client


def cpu_per_mail(token_writes_per_mail: float, shape: SenderShape) -> None:
    """CPU one mail costs a sender, so lanes can be sized against the function's vCPU: the shipped
    Sender on in-memory stores with no latency (its own work: suppression, render, links, claim and
    records), plus the shipped DynamoDB and SES adapters' calls per mail through boto3 clients that
    answer in-process (serializing, signing, parsing)."""
    from ecrm.campaigns.adapters.dynamo_sends import DynamoRateSlots, DynamoSendRecords
    from ecrm.campaigns.adapters.ses_campaigns import SesCampaignMailer
    from ecrm.campaigns.models import SendKey, SendRecord

    backend = Backend()
    populate(backend, CPU_MAILS, "cpu")
    cid = campaign(backend, "cpu")
    queue = SimulatedSqs(SimulatedClock(time.time()), 720, double=0.0)
    backend.runs(queue).handle(
        PlanCommand(action="start", campaign_id=cid, run_id="once"), backend.clock.now() + timedelta(hours=1)
    )
    ses = TokenBucketSes(1e9, 0.0)
    sender = backend.sender(ses, 10**6, queue)
    started = time.process_time()
    while (message := queue.receive()) is not None:
        sender.send(message.batch, backend.clock.now() + timedelta(minutes=2))
        queue.delete(message)
    own = (time.process_time() - started) / len(ses.accepted)

    db = _short_circuited("dynamodb", b'{"Attributes": {"used": {"N": "5"}}}')
    records, slots = DynamoSendRecords(db, "t"), DynamoRateSlots(db, "t", "campaigns")
    mailer = SesCampaignMailer(_short_circuited("sesv2", b'{"MessageId": "m-1"}'), "news@example.com", "set")
    mail = Mail(to="ann@example.com", subject="News for Ann", text="t" * 1500, html="<p>h</p>" * 400, headers={})
    now = backend.clock.now()

    def one(n: int) -> None:
        key = SendKey(campaign_id=cid, run_id="once", contact_id=f"{n:032x}")
        claim = SendRecord(key=key, status="sending", claim_id="c" * 32, claimed_at=now, lease_until=now, variant=None)
        records.claim(claim)
        mailer.send(mail, {"ecrm_campaign": cid, "ecrm_run": "once", "ecrm_contact": key.contact_id})
        records.complete(claim, "m-1", now)

    for n in range(50):  # botocore loads its models on first use: not a mail's work
        one(n)
        slots.take(1, 5, 1000)
    started = time.process_time()
    for n in range(CPU_MAILS):
        one(n)
    calls = (time.process_time() - started) / CPU_MAILS
    started = time.process_time()
    for n in range(CPU_MAILS):
        slots.take(n, 5, 1000)
    take = (time.process_time() - started) / CPU_MAILS * token_writes_per_mail
    per_mail = own + calls + take
    demand = per_mail * shape.pace
    vcpu = shape.memory_mb / VCPU_MB
    print(
        f"\nCPU per mail, this machine: the sender's own work {own * 1000:.2f} ms + claim, SES call and "
        f"completion through boto3 {calls * 1000:.2f} ms + {token_writes_per_mail:.2f} rate-token writes "
        f"{take * 1000:.2f} ms = {per_mail * 1000:.2f} ms (the shape assumes {CPU_SECONDS_PER_MAIL * 1000:.0f} ms). "
        f"A sender at {shape.rate}/s's full pace ({shape.lanes} lanes x {1 / PER_MAIL_SECONDS:.0f} mails/s) needs "
        f"{demand:.3f} vCPU: {demand / vcpu:.2f}x the {vcpu:.3f} vCPU of its {shape.memory_mb} MB "
        f"(AWS: 1 vCPU at {VCPU_MB} MB). TLS and the network stack are not in it."
    )


def main() -> None:
    print(__doc__.split("\n\n", 1)[1].split("\nTime is simulated")[0].rstrip())
    print(
        f"\nShape per rate: senders = max(2, ceil(rate x 1.25 x {PER_MAIL_SECONDS} s per mail / {LANES} lanes)), "
        "lanes = what a sender's share needs (at most 8), batch size 1, timeout 120 s (more when a "
        "100-recipient message needs it at a sender's share), visibility 6 x timeout"
    )
    print(
        "achieved = mails SES took / seconds from its first to its last; sustained = the same from the moment "
        "Lambda may run every sender (5 + 300 a minute: ramp s) until no message waits (every one is out with a "
        "sender; the tail s after that is the last messages finishing at one sender's pace each); median = mails "
        "SES took per whole second of the sustained stretch; throttled = SES calls refused (each retried by the sender); lost = eligible contacts "
        "never mailed; dup = second mails to one contact; DLQ = messages redriven; back = invocations that "
        "handed their message back; 2x = messages SQS delivered twice; busy = most senders at work at once"
    )
    rows: list[tuple[str, ...]] = [HEADER]
    runs = [simulate(rate, n, f"r{rate}") for rate, n in RUNS]
    rows += [report(f) for f in runs]
    widths = [max(len(row[i].strip()) for row in rows) for i in range(len(HEADER))]
    for row in rows:
        print("  ".join(cell.strip().rjust(width) for cell, width in zip(row, widths, strict=True)))
    fastest = max(runs, key=lambda f: f.rate)
    cpu_per_mail(fastest.token_writes / len(fastest.accepted), fastest.shape)
