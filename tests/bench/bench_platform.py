"""The platform: what the relay costs per event, events lost when processes die at every step
(the fault sweep of tests/integration/test_outbox_faults.py, counted instead of asserted), and
resources per stack. The capture's time against its own AWS
requests made bare is `make bench ONLY=capture` (bench_capture.py)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tests.bench.sink import quiet
from tests.support import Stack, aws_calls, moto_stack

CAPTURES = 200


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Every AWS request made meanwhile, by operation."""
    counted: Counter[str] = Counter()
    with aws_calls() as calls:
        yield counted
    counted.update(calls)


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def relay() -> None:
    """What the relay costs per event: CAPTURES captures' outbox records read from the stream and
    put on the bus (the capture's own time against its requests made bare: `make bench ONLY=capture`)."""
    with quiet(), moto_stack() as stack:
        stack.auto_relay = False  # the captures alone first; the relay runs after, on the stream
        stack.call("POST", "/contacts", {"email": "warm@example.com"})
        stack.relay()
        for i in range(CAPTURES):
            stack.call("POST", "/contacts", {"email": f"b{i // 2}@example.com", "tags": [f"t{i % 3}"]})
        with counting() as relayed:
            started = time.perf_counter()
            records = stack.relay()
            relay_seconds = time.perf_counter() - started
    puts = relayed["PutEvents"]
    print(
        f"\n== relay: {records} outbox records -> {puts} PutEvents ({records / max(puts, 1):.1f} events per call), "
        f"{relay_seconds / max(records, 1) * 1000:.2f} ms per event in-process under moto"
    )


def crash_sweep() -> None:
    from tests.integration import test_outbox_faults as faults

    scenarios, lost, repeated = 0, 0, 0
    rows = []
    started = time.perf_counter()
    with quiet():
        for path in faults.PATHS:
            with moto_stack() as stack:
                clean, _, _ = faults._run(stack, path, None, False)
                n, gone, twice = _sweep(clean, partial(_request, faults, stack, path))
            rows.append((path.name, len(clean), n, gone, twice))
        for consumer in faults.CONSUMERS:
            with moto_stack() as stack:
                clean, _, _ = faults._consume(stack, consumer, None, False)
                n, gone, twice = _sweep(clean, partial(_message, faults, stack, consumer))
            rows.append((consumer.name, len(clean), n, gone, twice))
    print("\n== events lost under injected crashes: each path dies before and after each of its AWS calls, then")
    print("   the caller retries (or SQS redelivers) and the relay reads the stream")
    print(f"{'path':36} {'calls':>6} {'crashes':>8} {'events lost':>12} {'effects twice':>14}")
    for name, calls, n, gone, twice in rows:
        scenarios, lost, repeated = scenarios + n, lost + gone, repeated + twice
        print(f"{name:36} {calls:6d} {n:8d} {gone:12d} {twice:14d}")
    print(f"{'all':36} {'':6} {scenarios:8d} {lost:12d} {repeated:14d}   ({time.perf_counter() - started:.0f} s)")


def _sweep(clean: list[str], one: Callable[[int, bool], tuple[int, int]]) -> tuple[int, int, int]:
    from tests.integration.test_outbox_faults import crash_points

    crashes = gone = twice = 0
    for step, after, _ in crash_points("", clean):
        lost, repeated = one(step, after)
        crashes, gone, twice = crashes + 1, gone + lost, twice + repeated
    return crashes, gone, twice


def _request(faults: Any, stack: Stack, path: Any, step: int, after: bool) -> tuple[int, int]:
    _, email, ctx = faults._run(stack, path, step, after)
    entity = ctx.get("id") or faults._contact_id(stack, email)
    if not entity:
        return len(path.expect), 0
    return len(faults.lost(stack, entity, path.expect)), int(faults._consent_mails_sent(stack, entity) > 1)


def _message(faults: Any, stack: Stack, consumer: Any, step: int, after: bool) -> tuple[int, int]:
    try:
        _, entity, _ = faults._consume(stack, consumer, step, after)  # its check asserts the effect happened once
    except AssertionError:
        return 0, 1
    return len(faults.lost(stack, entity, consumer.expect)), 0


def stacks() -> None:
    from tests.infra.synth import synthesize

    with tempfile.TemporaryDirectory() as out, quiet():
        synth = synthesize(Path(out))
    budget = 200
    print(f"\n== resources per stack (CloudFormation allows 500; the budget is {budget})")
    for name, template in sorted(synth.stacks.items(), key=lambda item: -len(item[1].get("Resources", {}))):
        count = len(template.get("Resources", {}))
        print(f"{count:5d}  {count / 500:5.0%}  {name}")
    counts = [len(t.get("Resources", {})) for t in synth.stacks.values()]
    print(f"largest {max(counts)}, median {statistics.median(counts):.0f}, all stacks {sum(counts)}")


def main() -> None:
    relay()
    crash_sweep()
    try:
        stacks()
    except Exception as exc:  # jsii needs Node: say so, and keep the figures above
        print(f"\n== resources per stack: not measured ({type(exc).__name__}: {exc})")
