"""`make bench`: cold-start and in-process latency figures, each as a ratio to a baseline measured
in the same run. Prints what it saw; asserts nothing about time (that is not what tests are for)."""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ecrm_infra import topology

from tests.bench import bytecode

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
CALLS = int(os.environ.get("BENCH_CALLS", "400"))
# Bytecode as Lambda has it (the runtime's boto3 and our layers are compiled, decision 48): every
# module's in one cache outside the tree (checked against its source like any bytecode), written by
# a first, uncounted run of each measured code. Without it, a machine that sets
# PYTHONDONTWRITEBYTECODE compiles every module from source in every fresh interpreter: the floor
# measured 451 ms that way here, and 175 ms with bytecode (decision 102).
BYTECODE_CACHE = str(Path(tempfile.gettempdir(), "ecrm-bench-pyc"))
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": BYTECODE_CACHE,
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


GOAL_WORST, GOAL_MEDIAN, GOAL_MIB = 1.3, 1.15, 15  # issue #14: ready <= 1.3x the floor, median <= 1.15x


@dataclass(frozen=True)
class ColdStart:
    name: str
    imported: float  # seconds, median
    ready: float
    import_ratio: float  # median of the ratios of paired runs (a floor run next to each)
    ready_ratio: float
    routes_ratio: float | None  # an API function's ready plus every route module it can load
    peak_kib: int


def _paired(fn: topology.Function) -> tuple[ColdStart, float, int]:
    """`RUNS` rounds of floor, import and ready in fresh interpreters one after the other: each
    ratio is taken within its round, so a busy machine slows both sides of it alike."""
    codes = [FLOOR, f"import {fn.name}.handler", _ready_code(fn)]
    if fn.routes:  # route modules load on a route's first request (ecrm.api.EdgeResolver.routes_from)
        codes.append(f"{_ready_code(fn)}; h.app.load_all_routes()")
    for code in codes:  # writes the bytecode the rounds read
        _fresh(code)
    rounds = [[_fresh(code) for code in codes] for _ in range(RUNS)]
    floor = statistics.median(r[0][0] for r in rounds)

    def ratio(i: int) -> float:
        return statistics.median(r[i][0] / r[0][0] for r in rounds)

    return (
        ColdStart(
            fn.name,
            imported=statistics.median(r[1][0] for r in rounds),
            ready=statistics.median(r[2][0] for r in rounds),
            import_ratio=ratio(1),
            ready_ratio=ratio(2),
            routes_ratio=ratio(3) if fn.routes else None,
            peak_kib=max(r[-1][1] for r in rounds),
        ),
        floor,
        max(r[0][1] for r in rounds),
    )


def cold_starts() -> float:
    """Prints each function's cold init against the floor; the floor's seconds (median of every round)."""
    print(f"\n== cold init, {RUNS} rounds of fresh interpreters (floor = `{FLOOR}`), ratios paired per round")
    print("   ready: import + composition root; +routes: an API function's ready plus all its route modules")
    print(
        f"{'function':20} {'import ms':>10} {'ratio':>6} {'ready ms':>9} {'ratio':>6} {'+routes':>7}"
        f" {'peak MiB':>9} {'+MiB':>5}"
    )
    rows, floors, floor_peak = [], [], 0
    floor_modules = _modules(FLOOR)
    for fn in topology.FUNCTIONS:
        row, floor, peak = _paired(fn)
        rows.append(row)
        floors.append(floor)
        floor_peak = max(floor_peak, peak)
        routes = f"{row.routes_ratio:7.2f}" if row.routes_ratio is not None else f"{'':7}"
        print(
            f"{fn.name:20} {row.imported * 1000:10.0f} {row.import_ratio:6.2f} {row.ready * 1000:9.0f} "
            f"{row.ready_ratio:6.2f} {routes} {row.peak_kib / 1024:9.0f} {(row.peak_kib - peak) / 1024:5.0f}"
        )
        if row.ready_ratio > GOAL_WORST:
            print(f"{'':22}over {GOAL_WORST}x; still loads beyond the floor: {_beyond(_ready_code(fn), floor_modules)}")
    floor = statistics.median(floors)
    worst = max(rows, key=lambda r: r.ready_ratio)
    delta = max(r.peak_kib for r in rows) - floor_peak
    api = [r.routes_ratio for r in rows if r.routes_ratio is not None]
    print(
        f"floor {floor * 1000:.0f} ms, {floor_peak / 1024:.0f} MiB. ready: median "
        f"{statistics.median(r.ready_ratio for r in rows):.2f}x (goal <= {GOAL_MEDIAN}), worst "
        f"{worst.ready_ratio:.2f}x {worst.name} (goal <= {GOAL_WORST}); over the goal: "
        f"{sum(r.ready_ratio > GOAL_WORST for r in rows)} of {len(rows)}; API functions with every route "
        f"module: median {statistics.median(api):.2f}x, worst {max(api):.2f}x; peak memory: floor + "
        f"{delta / 1024:.0f} MiB at most (goal <= {GOAL_MIB})"
    )
    return floor


def _importtime(code: str) -> dict[str, tuple[int, int]]:
    """`python -X importtime`'s table for `code`: module -> (self µs, cumulative µs)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=ENV, check=True, capture_output=True, text=True
    ).stderr
    table = {}
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            table[parts[2].strip()] = (int(parts[0]), int(parts[1]))
    return table


def _modules(code: str) -> set[str]:
    return set(_importtime(code))


def _beyond(code: str, floor_modules: set[str], top: int = 5) -> str:
    """The packages `code` imports that the floor does not, by their modules' own import time:
    `ecrm.campaigns 41 ms, pydantic 38 ms, ...` (one run: an indication, not a figure)."""
    spent: dict[str, int] = {}
    for module, (own, _) in _importtime(code).items():
        if module not in floor_modules:
            key = ".".join(module.split(".")[: 2 if module.startswith(("ecrm.", "aws_lambda_powertools.")) else 1])
            spent[key] = spent.get(key, 0) + own
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in ranked)


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
