"""`make bench ONLY=capture`: POST /contacts in-process under moto against its own AWS requests made bare.

Each capture goes through the shipped handler (API Gateway event, edge, validation, domain, adapters)
on the stack in us-east-1; right after it, the very requests it made (recorded at botocore's one door,
parameters included) are made again directly with boto3 on a twin of the stack in us-west-2, in the
same moto and the same process. The twin holds what the stack held at each step (it got every
request too), so both sides do the same moto work on same-sized tables, a moment apart: drift in
this shared machine's load hits both. The ratio is what our code adds around its AWS requests.
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from ecrm_local import resources

from tests.aws_intercept import Send, intercepted
from tests.bench.sink import quiet
from tests.support import moto_stack

CAPTURES = int(os.environ.get("BENCH_CAPTURES", "400"))
TWIN_REGION = "us-west-2"
GOAL = 1.3

Request = tuple[str, str, dict[str, Any]]  # service, operation, parameters


@dataclass
class Sample:
    wall: float = 0.0
    cpu: float = 0.0  # this thread's CPU time: what other processes on the machine cannot stretch


@contextmanager
def timed() -> Iterator[Sample]:
    sample = Sample()
    wall, cpu = time.perf_counter(), time.thread_time()
    yield sample
    sample.wall, sample.cpu = time.perf_counter() - wall, time.thread_time() - cpu


@contextmanager
def recording() -> Iterator[list[Request]]:
    """Every AWS request made meanwhile, with its parameters, to be made again bare."""
    made: list[Request] = []

    def around(client: BaseClient, operation: str, params: dict[str, Any], send: Send) -> Any:
        made.append((client.meta.service_model.service_name, operation, copy.deepcopy(params)))
        return send(client, operation, params)

    with intercepted(around):
        yield made


class Twin:
    """The same resources in another region of the same moto: where the requests are made bare."""

    def __init__(self) -> None:
        session = boto3.session.Session(region_name=TWIN_REGION)
        resources.create_all(session)
        self._session = session
        self._clients: dict[str, Any] = {}

    def replay(self, requests: list[Request]) -> Sample:
        for service, _, _ in requests:
            if service not in self._clients:
                self._clients[service] = self._session.client(service)  # type: ignore[call-overload]
        with timed() as sample:
            for service, operation, params in requests:
                self._clients[service]._make_api_call(operation, params)
        return sample


def _body(i: int) -> dict[str, Any]:
    # Half new contacts, half repeat posts that merge: the two capture paths.
    return {"email": f"b{i // 2}@example.com", "tags": [f"t{i % 3}"]}


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(n: int) -> tuple[dict[str, list[Sample]], list[Sample], dict[str, Counter[str]]]:
    """(capture timings by path, bare timings in the order made, AWS requests by path)."""
    timings: dict[str, list[Sample]] = {"new contact": [], "merge": []}
    requests: dict[str, Counter[str]] = {"new contact": Counter(), "merge": Counter()}
    bare: list[Sample] = []
    with quiet(), moto_stack() as stack:
        stack.auto_relay = False  # the request alone: the relay runs after, on the stream
        twin = Twin()
        with recording() as warm:  # the composition, as a warm Lambda; the twin gets it too
            stack.call("POST", "/contacts", {"email": "warm@example.com"})
        twin.replay(warm)
        for i in range(n):
            kind = "new contact" if i % 2 == 0 else "merge"
            with recording() as made, timed() as sample:
                stack.call("POST", "/contacts", _body(i))
            timings[kind].append(sample)
            requests[kind].update(operation for _, operation, _ in made)
            bare.append(twin.replay(made))
    return timings, bare, requests


def main() -> None:
    timings, bare, requests = measure(CAPTURES)
    print(
        f"\n== POST /contacts in-process under moto, {CAPTURES} posts (half new contacts, half merges), "
        "each followed by its own AWS requests made bare on a twin stack (relay not included)"
    )
    print(
        "   wall: elapsed time (other processes on this shared machine stretch it, on either side); "
        "cpu: this thread's CPU time (they cannot)"
    )
    print(f"{'path':12} {'requests':>8} {'wall p50':>9} {'wall p99':>9} {'cpu p50':>8} {'cpu p99':>8}  requests")
    rows = {**timings, "all": timings["new contact"] + timings["merge"], "bare": bare}
    for kind, samples in rows.items():
        counts = requests.get(kind) or sum(requests.values(), Counter())
        per = sum(counts.values()) / (len(samples) if kind in requests else len(bare))
        ops = ", ".join(f"{op} {c / len(samples):.2f}" for op, c in sorted(counts.items())) if kind in requests else ""
        walls, cpus = [x.wall for x in samples], [x.cpu for x in samples]
        print(
            f"{kind:12} {per:8.2f} {_pct(walls, 50) * 1000:9.2f} {_pct(walls, 99) * 1000:9.2f} "
            f"{_pct(cpus, 50) * 1000:8.2f} {_pct(cpus, 99) * 1000:8.2f}  {ops}"
        )
    routed = rows["all"]
    for clock in ("wall", "cpu"):
        ours, theirs = [getattr(x, clock) for x in routed], [getattr(x, clock) for x in bare]
        p50, p99 = _pct(ours, 50) / _pct(theirs, 50), _pct(ours, 99) / _pct(theirs, 99)
        print(
            f"capture / its AWS requests made bare, {clock}: p50 {p50:.2f} x "
            f"({(_pct(ours, 50) - _pct(theirs, 50)) * 1000:+.2f} ms), p99 {p99:.2f} x "
            f"({(_pct(ours, 99) - _pct(theirs, 99)) * 1000:+.2f} ms); goal <= {GOAL} x"
        )
    # Each capture against its own requests' replay, made right after it: our code's own cost.
    order = [x for pair in zip(timings["new contact"], timings["merge"], strict=False) for x in pair]
    for clock in ("wall", "cpu"):
        extra = sorted(getattr(c, clock) - getattr(b, clock) for c, b in zip(order, bare, strict=False))
        print(
            f"each capture minus its own requests made bare, {clock}: median {_pct(extra, 50) * 1000:+.2f} ms, "
            f"p10 {_pct(extra, 10) * 1000:+.2f} ms, p90 {_pct(extra, 90) * 1000:+.2f} ms"
        )
