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
from contextlib import ExitStack

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


def _phase(slow: int, concurrent: bool = True) -> tuple[list[float], int]:
    """The healthy endpoint's lags beside `slow` endpoints that hang and one that refuses (if any),
    the batch's records run at once or in order; how many POSTs the hanging ones got."""
    from webhooks_delivery.handler import attempt

    with ExitStack() as stack_of:
        stack_of.enter_context(quiet())
        stack = stack_of.enter_context(moto_stack())
        healthy = stack_of.enter_context(receiver())
        hanging = [stack_of.enter_context(receiver()) for _ in range(slow)]
        attempt.concurrent = concurrent
        _register(stack, healthy.url)
        for hang in hanging:
            hang.delay = 10.0
            _register(stack, hang.url)
        if slow:
            _register(stack, f"http://127.0.0.1:{_closed_port()}/hooks")
        try:
            return _lags(stack, healthy, f"p{slow}{concurrent:d}"), sum(len(h.arrived) for h in hanging)
        finally:
            attempt.concurrent = True


def main() -> None:
    base, _ = _phase(0)
    print(f"{EVENTS} events to a healthy endpoint; seconds from the events committed to the receiver")
    print(f"{'':44} {'p50':>6} {'p95':>6} {'max':>6} {'x p50':>6} {'x p95':>6} {'hung POSTs':>10}")
    rows = [("alone (baseline)", base, 0)]
    for slow in (1, 3):
        for concurrent in (False, True):
            lags, posts = _phase(slow, concurrent)
            rows.append((f"beside {slow} hanging + 1 refusing, {'at once' if concurrent else 'in order'}", lags, posts))
    for name, lags, posts in rows:
        print(
            f"{name:44} {_pct(lags, 50):6.2f} {_pct(lags, 95):6.2f} {max(lags):6.2f}"
            f" {_pct(lags, 50) / _pct(base, 50):6.2f} {_pct(lags, 95) / _pct(base, 95):6.2f} {posts:10d}"
        )
    print("(x: ratio to the baseline; hung POSTs: attempts that reached the hanging receivers, of their deliveries)")
