"""`make bench`: cold-start and in-process latency figures, each as a ratio to a baseline measured
in the same run. Prints what it saw; asserts nothing about time (that is not what tests are for)."""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ecrm_infra import topology

from tests.bench import bytecode

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
CALLS = int(os.environ.get("BENCH_CALLS", "400"))
ENV = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

FLOOR = "import boto3; boto3.client('dynamodb')"
_PROBE = """
import resource, time
t0 = time.perf_counter()
{code}
t1 = time.perf_counter()
print(t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _fresh(code: str) -> tuple[float, int]:
    """Seconds `code` takes in a new interpreter, and that process's peak RSS (KiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)], env=ENV, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1])


def _median(code: str) -> tuple[float, int]:
    runs = [_fresh(code) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def cold_starts() -> float:
    """Prints each function's cold init against the floor; the floor's seconds."""
    floor, floor_rss = _median(FLOOR)
    print(
        f"\n== cold init, median of {RUNS} fresh interpreters (floor = `{FLOOR}`: {floor * 1000:.0f} ms, "
        f"{floor_rss / 1024:.0f} MiB)"
    )
    print(f"{'function':20} {'import ms':>10} {'ratio':>6} {'ready ms':>9} {'ratio':>6} {'peak MiB':>9}")
    for fn in topology.FUNCTIONS:
        imported, _ = _median(f"import {fn.name}.handler")
        # "ready": import plus building the composition root (settings, clients), which the
        # handler does on its first invocation.
        ready, rss = _median(_ready_code(fn))
        print(
            f"{fn.name:20} {imported * 1000:10.0f} {imported / floor:6.2f} {ready * 1000:9.0f} "
            f"{ready / floor:6.2f} {rss / 1024:9.0f}"
        )
    return floor


def _ready_code(fn: topology.Function) -> str:
    return f"import os; os.environ.update({json.dumps(ready_env(fn))}); import {fn.name}.handler as h; h.service()"


def ready_env(fn: topology.Function) -> dict[str, str]:
    # Settings the composition root can parse without calling AWS: placeholders (numbers as "1":
    # a send rate of 0 would ask SES for the account's quota), and the context defaults CDK would
    # deploy with for the other settings that come from context.
    fields = {f.alias: f.annotation for f in fn.settings.model_fields.values() if f.alias}
    env = {alias: _placeholder(alias, annotation) for alias, annotation in fields.items()}
    # (flags, and numbers with bounds such as the webhooks' retry hours, too: not a default of 0)
    for var, source in fn.env.items():
        if not source.startswith(topology.CONTEXT_PREFIX) or var not in fields:
            continue
        default = topology.CONTEXT_DEFAULTS[source.removeprefix(topology.CONTEXT_PREFIX)]
        if fields[var] in (str, bool) or (fields[var] is int and default != "0"):
            env[var] = default
    return env


def _placeholder(alias: str, annotation: object) -> str:
    if annotation in (int, float):
        return "1"
    return "https://x.test/p" if alias.endswith("_URL") else "x"  # links are checked when composed


def latency() -> None:
    from tests.bench.latency import measure
    from tests.bench.sink import quiet

    with quiet():
        hello, one_call, capture, peak = measure(CALLS)
    print(f"\n== in-process latency under moto, {CALLS} calls each")
    print("   ratio x: to the bare hello route; x1: to the hello route plus one DynamoDB GetItem")
    print(f"{'route':30} {'p50 ms':>8} {'p99 ms':>8} {'p50 x':>8} {'p99 x':>8} {'p50 x1':>7} {'p99 x1':>7}")
    rows = (("bare Powertools hello", hello), ("hello + 1 DynamoDB GetItem", one_call), ("POST /contacts", capture))
    for name, samples in rows:
        p50, p99 = _pct(samples, 50), _pct(samples, 99)
        print(
            f"{name:30} {p50 * 1000:8.2f} {p99 * 1000:8.2f} {p50 / _pct(hello, 50):8.1f} {p99 / _pct(hello, 99):8.1f}"
            f" {p50 / _pct(one_call, 50):7.2f} {p99 / _pct(one_call, 99):7.2f}"
        )
    print(f"peak traced Python memory over 50 captures: {peak / 1024 / 1024:.1f} MiB")


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def capability_benches() -> list[str]:
    """Each capability's bench is a module `tests/bench/bench_<capability>.py` with a `main()`."""
    return sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))


def main(selected: list[str]) -> None:
    started = time.perf_counter()
    if not selected or "contacts" in selected:
        floor = cold_starts()
        bytecode.report(ENV, RUNS, floor)
        latency()
    for name in capability_benches():
        if not selected or name.removeprefix("bench_") in selected:
            print(f"\n==== {name.removeprefix('bench_')}")
            importlib.import_module(f"tests.bench.{name}").main()
    print(f"\nbench took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
