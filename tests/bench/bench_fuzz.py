"""`make bench ONLY=fuzz`: the long schemathesis run (decision 66) against a fresh `ecrm local` in
this process: BENCH_FUZZ_EXAMPLES cases (default 50) per operation and generation mode, for each of
BENCH_FUZZ_CALLERS (comma-separated, default every caller: none, forged, admin, agent, marketer).
Prints the requests made, the failures per check (and each one), the time taken, and this
process's RSS before and after (the stack and the fuzzer together: an upper bound on what fuzzing
costs the stack). The e2e tier runs the same driver with 2 cases (tests/e2e/test_fuzz_api.py);
nothing is asserted here."""

from __future__ import annotations

import os

from tests import api_fuzz
from tests.bench.bench_local import Api, on_a_local_stack
from tests.bench.bench_soak import rss_mib

EXAMPLES = int(os.environ.get("BENCH_FUZZ_EXAMPLES", "50"))
CALLERS = tuple(c for c in os.environ.get("BENCH_FUZZ_CALLERS", ",".join(api_fuzz.CALLERS)).split(",") if c)


def fuzz(api: Api, out: list[str]) -> None:
    rss_before = rss_mib()
    reports, elapsed = api_fuzz.timed(api.base, api.key, CALLERS, EXAMPLES)
    rss_after = rss_mib()
    requests = sum(r.requests for r in reports)
    out.append(f"\n== fuzz: {EXAMPLES} cases per operation and mode, callers {', '.join(CALLERS)}")
    out.append(f"{'caller':10} {'operations':>10} {'requests':>9} {'failures':>9}  per check")
    for report in reports:
        per_check = ", ".join(f"{check}: {n}" for check, n in report.failures_per_check().items()) or "-"
        out.append(
            f"{report.caller:10} {report.operations:10} {report.requests:9} {len(report.findings):9}  {per_check}"
        )
    out.append(f"{requests} requests in {elapsed:.0f} s ({requests / elapsed:.1f}/s)")
    grown = rss_after - rss_before
    out.append(
        f"RSS (stack and fuzzer) {rss_before:.0f} -> {rss_after:.0f} MiB: {grown * 60 / elapsed:.2f} MiB/min, "
        f"{grown * 1000 / max(requests, 1):.2f} MiB per 1,000 requests"
    )
    out += [str(finding) for report in reports for finding in report.findings.values()]


def main() -> None:
    on_a_local_stack("fuzz", fuzz)
