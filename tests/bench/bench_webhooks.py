"""`make bench ONLY=webhooks`: does one slow endpoint delay another? BENCH_WEBHOOK_EVENTS captured
contacts, each a webhook to a healthy loopback receiver; the lag from the moment every event is
committed to each arrival at the receiver (p50/p95/max; the pump runs every consumer) alone (the baseline), then with a second endpoint that answers after 10 s (the
sender gives up at 5 s) and a third whose port refuses connections, measured in the same run.
Deliveries run as `stack.pump()` runs them: one function invocation at a time, as in one Lambda
environment (AWS runs more beside it). Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from tests.bench.sink import quiet
from tests.support import Stack, moto_stack
from tests.webhook_receiver import Receiver, receiver

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "20"))


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _register(stack: Stack, url: str) -> None:
    answer = stack.admin("POST", "/webhooks", {"url": url, "event_types": ["contact.captured"], "rate_per_second": 100})
    assert answer.status == 201, answer.body


def _lags(stack: Stack, healthy: Receiver, tag: str) -> list[float]:
    """Seconds from the start of the pump (every event committed) to each arrival."""
    for n in range(EVENTS):
        assert stack.call("POST", "/contacts", {"email": f"{tag}{n}@example.com"}).status == 201
    started = time.monotonic()
    stack.pump(rounds=40)
    return [at - started for at in healthy.arrived]


def _phase(slow_too: bool) -> tuple[list[float], dict[str, Any]]:
    with quiet(), moto_stack() as stack, receiver() as healthy, receiver() as slow:
        slow.delay = 10.0
        _register(stack, healthy.url)
        if slow_too:
            _register(stack, slow.url)
            _register(stack, f"http://127.0.0.1:{_closed_port()}/hooks")
        lags = _lags(stack, healthy, "slow" if slow_too else "base")
        return lags, {"slow POSTs": len(slow.arrived)}


def main() -> None:
    base, _ = _phase(slow_too=False)
    mixed, seen = _phase(slow_too=True)
    print(f"{EVENTS} events to a healthy endpoint; seconds from the events committed to the receiver")
    print(f"{'':34} {'p50':>7} {'p95':>7} {'max':>7} {'delivered':>10}")
    for name, lags in (("alone (baseline)", base), ("beside a slow and a dead endpoint", mixed)):
        print(f"{name:34} {_pct(lags, 50):7.2f} {_pct(lags, 95):7.2f} {max(lags):7.2f} {len(lags):10d}")
    print(
        f"ratio to the baseline: p50 {_pct(mixed, 50) / _pct(base, 50):.2f} x, p95 {_pct(mixed, 95) / _pct(base, 95):.2f} x;"
        f" the slow endpoint got {seen['slow POSTs']} POST(s) for {EVENTS} deliveries (the rest wait on timers)"
    )
