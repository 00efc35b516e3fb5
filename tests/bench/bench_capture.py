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

    def replay(self, requests: list[Request]) -> float:
        for service, _, _ in requests:
            if service not in self._clients:
                self._clients[service] = self._session.client(service)  # type: ignore[call-overload]
        started = time.perf_counter()
        for service, operation, params in requests:
            self._clients[service]._make_api_call(operation, params)
        return time.perf_counter() - started


def _body(i: int) -> dict[str, Any]:
    # Half new contacts, half repeat posts that merge: the two capture paths.
    return {"email": f"b{i // 2}@example.com", "tags": [f"t{i % 3}"]}


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(n: int) -> tuple[dict[str, list[float]], list[float], dict[str, Counter[str]]]:
    """(capture seconds by path, bare seconds, AWS requests by path)."""
    timings: dict[str, list[float]] = {"new contact": [], "merge": []}
    requests: dict[str, Counter[str]] = {"new contact": Counter(), "merge": Counter()}
    bare: list[float] = []
    with quiet(), moto_stack() as stack:
        stack.auto_relay = False  # the request alone: the relay runs after, on the stream
        twin = Twin()
        with recording() as warm:  # the composition, as a warm Lambda; the twin gets it too
            stack.call("POST", "/contacts", {"email": "warm@example.com"})
        twin.replay(warm)
        for i in range(n):
            kind = "new contact" if i % 2 == 0 else "merge"
            with recording() as made:
                started = time.perf_counter()
                stack.call("POST", "/contacts", _body(i))
                timings[kind].append(time.perf_counter() - started)
            requests[kind].update(operation for _, operation, _ in made)
            bare.append(twin.replay(made))
    return timings, bare, requests


def main() -> None:
    timings, bare, requests = measure(CAPTURES)
    print(
        f"\n== POST /contacts in-process under moto, {CAPTURES} posts (half new contacts, half merges), "
        "each followed by its own AWS requests made bare on a twin stack (relay not included)"
    )
    print(f"{'path':12} {'AWS requests per capture':>25} {'p50 ms':>8} {'p99 ms':>8}  requests")
    for kind, samples in timings.items():
        n = len(samples)
        per = sum(requests[kind].values()) / n
        ops = ", ".join(f"{op} {count / n:.2f}" for op, count in sorted(requests[kind].items()))
        print(f"{kind:12} {per:25.2f} {_pct(samples, 50) * 1000:8.2f} {_pct(samples, 99) * 1000:8.2f}  {ops}")
    routed = timings["new contact"] + timings["merge"]
    print(f"{'all':12} {'':25} {_pct(routed, 50) * 1000:8.2f} {_pct(routed, 99) * 1000:8.2f}")
    print(f"{'bare':12} {'(the same requests)':>25} {_pct(bare, 50) * 1000:8.2f} {_pct(bare, 99) * 1000:8.2f}")
    p50, p99 = _pct(routed, 50) / _pct(bare, 50), _pct(routed, 99) / _pct(bare, 99)
    print(
        f"capture / its AWS requests made bare: p50 {p50:.2f} x ({(_pct(routed, 50) - _pct(bare, 50)) * 1000:+.2f} ms), "
        f"p99 {p99:.2f} x ({(_pct(routed, 99) - _pct(bare, 99)) * 1000:+.2f} ms); goal <= {GOAL} x"
    )
    overhead = sorted(r - b for r, b in zip(routed_in_order(timings), bare, strict=True))
    print(
        f"per capture, its time minus its own requests' bare time: median {overhead[len(overhead) // 2] * 1000:.2f} ms"
    )


def routed_in_order(timings: dict[str, list[float]]) -> list[float]:
    """The capture timings in the order they were made (new, merge, new, merge, ...)."""
    new, merge = timings["new contact"], timings["merge"]
    return [x for pair in zip(new, merge, strict=False) for x in pair] + new[len(merge) :]
