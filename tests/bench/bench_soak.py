"""`make bench ONLY=soak`: the local stack (in this process) under steady requests for
BENCH_SOAK_MINUTES (default 3): contacts captured (each sends a consent mail), the outbox read,
an unknown route, events put on the bus. The process's RSS is sampled every few seconds and the
slope of a least-squares line through the samples printed, for the whole run and its second half
(warm-up allocations land in the first), also per 1,000 requests: part of the growth is data the
requests create (contacts, their consent records), as it would be in AWS. Then `ecrm local` is
started as a command BENCH_SOAK_STOPS times (default 3), a few requests made, and the time from
SIGTERM to its exit printed. Nothing is asserted.

BENCH_SOAK_CAPTURES=0 leaves the captures out: no request then makes data that DynamoDB would
keep (the events put still pass through the bus), so what grows is bookkeeping.
BENCH_SOAK_OUTBOX_RETENTION_S sets `ecrm local --outbox-retention` (a week: the Outbox's rows stay
as long as in AWS, the figure to compare with). The rows each table holds at the end are printed:
they are the data the requests made. BENCH_SOAK_TRACE=1 diffs tracemalloc snapshots taken at the
run's middle and end and prints where the memory grew (slower: tracemalloc costs every allocation)."""

from __future__ import annotations

import gc
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.bench.bench_local import Api, on_a_local_stack

SOAK_MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", "3"))
SOAK_SAMPLE_S = 5.0
STOPS = int(os.environ.get("BENCH_SOAK_STOPS", "3"))
UP_TIMEOUT_S = 120.0
OUTBOX_RETENTION_S = os.environ.get("BENCH_SOAK_OUTBOX_RETENTION_S")
TRACE = os.environ.get("BENCH_SOAK_TRACE") == "1"
CAPTURES = os.environ.get("BENCH_SOAK_CAPTURES", "1") != "0"  # 0: no request creates data
TRACE_TOP = 15


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # macOS: bytes, and the peak


def soak(api: Api, out: list[str]) -> None:
    """Contacts captured, pages read and events put for SOAK_MINUTES; RSS sampled."""
    if SOAK_MINUTES <= 0:
        return
    started = time.perf_counter()
    samples: list[tuple[float, float]] = [(0.0, rss_mib())]
    requests = i = 0
    next_sample = started + SOAK_SAMPLE_S
    if TRACE:
        tracemalloc.start(1)
    middle: Any = None
    while (now := time.perf_counter()) - started < SOAK_MINUTES * 60:
        if TRACE and middle is None and now - started >= SOAK_MINUTES * 30:
            middle = (tracemalloc.take_snapshot(), _objects())
        i += 1
        if CAPTURES:
            api.call("POST", "/contacts", {"email": f"soak{i}@example.org", "marketing_consent": True}, role=None)
        api.call("GET", "/_local/outbox", role=None)
        api.call("GET", "/nowhere", role=None)
        event = {"Source": "bench.soak", "DetailType": "Soak", "Detail": {"i": i}}
        api.call("POST", "/_local/events", event, role=None)
        requests += 4 if CAPTURES else 3
        if now >= next_sample:
            samples.append((now - started, rss_mib()))
            next_sample += SOAK_SAMPLE_S
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    slope = statistics.linear_regression(xs, ys).slope if len(samples) > 2 else float("nan")
    half = len(samples) // 2
    late = statistics.linear_regression(xs[half:], ys[half:]).slope if len(samples) - half > 2 else float("nan")
    out.append(f"\n== soak: {requests} requests in {SOAK_MINUTES:g} min, RSS sampled every {SOAK_SAMPLE_S:g} s")
    out.append(f"RSS {ys[0]:.0f} MiB -> {ys[-1]:.0f} MiB (max {max(ys):.0f} MiB)")
    out.append(f"slope {slope * 60:.2f} MiB/min over the run, {late * 60:.2f} MiB/min over its second half")
    per_request = SOAK_MINUTES * 60 / max(requests, 1)
    out.append(
        f"= {slope * per_request * 1000:.2f} MiB per 1,000 requests over the run, "
        f"{late * per_request * 1000:.2f} over its second half"
    )
    out.append("rows at the end: " + ", ".join(f"{name} {n}" for name, n in _rows().items()))
    if middle is not None:
        out.extend(_grown(middle[0], tracemalloc.take_snapshot()))
        out.extend(_more(middle[1], _objects()))
        tracemalloc.stop()


def _rows() -> dict[str, int]:
    """Items per table in moto now (the tables that hold any), read in this process."""
    from ecrm_local.lambdas import ACCOUNT, REGION
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[ACCOUNT][REGION].tables
    counts = {name.rsplit("-", 1)[-1]: len(table) for name, table in tables.items()}
    return {name: n for name, n in sorted(counts.items()) if n}


def _objects() -> Counter[str]:
    """Objects the cyclic GC tracks, by type (after a collection: what is still reachable)."""
    gc.collect()
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def _more(before: Counter[str], after: Counter[str]) -> list[str]:
    lines = [f"\n== objects added from the middle of the run to its end, by type (top {TRACE_TOP})"]
    for name, n in (after - before).most_common(TRACE_TOP):
        lines.append(f"{n:+8d}  {name}")
    return lines


def _grown(before: Any, after: Any) -> list[str]:
    """Where memory grew between two tracemalloc snapshots, by the allocating line, most first."""
    skip = tracemalloc.Filter(False, tracemalloc.__file__)
    diff = after.filter_traces([skip]).compare_to(before.filter_traces([skip]), "lineno")
    lines = [f"\n== grown from the middle of the run to its end (tracemalloc, top {TRACE_TOP})"]
    for stat in diff[:TRACE_TOP]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"
        lines.append(f"{stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8d} blocks  {where}")
    return lines


def stop_after_sigterm() -> float:
    """Seconds from SIGTERM to the exit of an `ecrm local` that served a few requests."""
    import urllib.request

    root = tempfile.mkdtemp(prefix="bench-stop-")
    command = [sys.executable, "-m", "ecrm_local.cli", "local", "--port", "0"]
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline, api = time.monotonic() + UP_TIMEOUT_S, ""
    while time.monotonic() < deadline and not api:
        line = proc.stdout.readline()
        if line.strip().startswith("API"):
            api = line.split()[-1]
    for _ in range(5):
        urllib.request.urlopen(f"{api}/_local/health", timeout=30).read()  # noqa: S310 - the local stack
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    return time.perf_counter() - started


def stops() -> None:
    if STOPS <= 0:
        return
    seconds = [stop_after_sigterm() for _ in range(STOPS)]
    print(f"\n== `ecrm local` from SIGTERM to exit, {STOPS} runs")
    print("seconds: " + ", ".join(f"{s:.2f}" for s in seconds) + f" (max {max(seconds):.2f})")


def main() -> None:
    retention = {"outbox_retention": timedelta(seconds=float(OUTBOX_RETENTION_S))} if OUTBOX_RETENTION_S else {}
    on_a_local_stack("soak", soak, **retention)
    stops()
