"""The platform: AWS requests per capture (the outbox moved PutEvents off the request) and the
capture's time against the same AWS requests made bare, what the relay costs per event, events
lost when processes die at every step (the fault sweep of tests/integration/test_outbox_faults.py,
counted instead of asserted), and resources per stack."""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from tests.aws_intercept import Send, intercepted
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


Request = tuple[str, str, dict[str, Any]]  # service, operation, parameters


@contextmanager
def recording() -> Iterator[list[Request]]:
    """Every AWS request made meanwhile, with its parameters, to be made again bare."""
    made: list[Request] = []

    def around(client: BaseClient, operation: str, params: dict[str, Any], send: Send) -> Any:
        made.append((client.meta.service_model.service_name, operation, copy.deepcopy(params)))
        return send(client, operation, params)

    with intercepted(around):
        yield made


def _bare(captured: list[list[Request]]) -> list[float]:
    """The seconds each capture's AWS requests take made directly with boto3, in the same order,
    on a fresh stack that holds what the captured one held at each step: the same requests, the
    same table sizes, no handler, resolver, validation or domain code around them."""
    import boto3

    seconds = []
    with quiet(), moto_stack():
        clients: dict[str, Any] = {}
        for requests in captured:
            for service, _, _ in requests:
                clients.setdefault(service, boto3.client(service))  # type: ignore[call-overload]
            started = time.perf_counter()
            for service, operation, params in requests:
                clients[service]._make_api_call(operation, params)
            seconds.append(time.perf_counter() - started)
    return seconds


def captures() -> None:
    with quiet(), moto_stack() as stack:
        stack.auto_relay = False  # the request alone: the relay runs after, on the stream
        captured: list[list[Request]] = []
        with recording() as warm:
            stack.call("POST", "/contacts", {"email": "warm@example.com"})
        captured.append(warm)
        stack.relay()
        timings: dict[str, list[float]] = {"new contact": [], "merge": []}
        requests: dict[str, Counter[str]] = {"new contact": Counter(), "merge": Counter()}
        for i in range(CAPTURES):
            kind = "new contact" if i % 2 == 0 else "merge"
            with recording() as made:
                started = time.perf_counter()
                stack.call("POST", "/contacts", {"email": f"b{i // 2}@example.com", "tags": [f"t{i % 3}"]})
                timings[kind].append(time.perf_counter() - started)
            requests[kind].update(operation for _, operation, _ in made)
            captured.append(made)
        with counting() as relayed:
            started = time.perf_counter()
            records = stack.relay()
            relay_seconds = time.perf_counter() - started
    bare = _bare(captured)[1:]  # the warm-up capture replayed too, so that the state matches; not timed
    print(f"\n== capture under moto, {CAPTURES} posts (half new contacts, half merges), relay not included")
    print(f"{'path':12} {'AWS requests per capture':>25} {'p50 ms':>8} {'p99 ms':>8}  requests")
    for kind, samples in timings.items():
        n = len(samples)
        per = sum(requests[kind].values()) / n
        ops = ", ".join(f"{op} {count / n:.2f}" for op, count in sorted(requests[kind].items()))
        print(f"{kind:12} {per:25.2f} {_pct(samples, 50) * 1000:8.2f} {_pct(samples, 99) * 1000:8.2f}  {ops}")
    routed = timings["new contact"] + timings["merge"]
    print(f"{'bare':12} {'(the same requests)':>25} {_pct(bare, 50) * 1000:8.2f} {_pct(bare, 99) * 1000:8.2f}")
    print(
        f"capture / its AWS requests made bare: p50 {_pct(routed, 50) / _pct(bare, 50):.2f} x "
        f"({(_pct(routed, 50) - _pct(bare, 50)) * 1000:+.2f} ms), p99 {_pct(routed, 99) / _pct(bare, 99):.2f} x "
        "(goal 1.3 x; moto's time dominates both)"
    )
    puts = relayed["PutEvents"]
    print(
        f"relay: {records} outbox records -> {puts} PutEvents ({records / max(puts, 1):.1f} events per call), "
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
    captures()
    crash_sweep()
    try:
        stacks()
    except Exception as exc:  # jsii needs Node: say so, and keep the figures above
        print(f"\n== resources per stack: not measured ({type(exc).__name__}: {exc})")
