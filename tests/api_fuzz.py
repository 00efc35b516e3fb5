"""Property-based fuzzing of the served API with schemathesis (decision 66): the e2e tier's bounded
run (tests/e2e/test_fuzz_api.py) and the bench's long one (tests/bench/bench_fuzz.py) share it.

The document under test is the one a running `ecrm local` serves at /openapi.json, so what is
fuzzed is what a client reads. Every operation gets valid (positive) and invalid (negative)
requests from one caller: nobody, a token signed with the wrong key, or a token minted for a role.
Each answer must not be a server error, must have a status the operation declares, a content
type it declares for that status, and a body its schema for that status accepts. Hypothesis
runs derandomized and without its example database: the same cases every run, nothing written
into the repository; failures are collected (one per operation, check and status), not raised,
so one run reports them all.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from ecrm.names import Role
from ecrm_local import auth_tokens
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

NOBODY, FORGED = "none", "forged"
CALLERS = (NOBODY, FORGED, *Role.ALL)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
TIMEOUT_S = 30


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    status: int
    message: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation} — {self.check} — {self.status}\n  {self.message.strip()[:600]}\n  {self.curl}"


@dataclass
class Report:
    caller: str
    requests: int = 0
    operations: int = 0
    findings: dict[tuple[str, str, int], Finding] = field(default_factory=dict)

    def failures_per_check(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings.values():
            counts[finding.check] = counts.get(finding.check, 0) + 1
        return counts

    def summary(self) -> str:
        lines = [
            f"{self.caller}: {self.requests} requests, {self.operations} operations, {len(self.findings)} failures"
        ]
        if self.findings and self.caller in Role.ALL:  # the curl lines hide the token
            lines.append(f'(reproduce with -H "Authorization: Bearer $(.venv/bin/ecrm token --role {self.caller})")')
        lines += [str(f) for f in self.findings.values()]
        return "\n".join(lines)


def served_spec(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(base_url + "/openapi.json", timeout=TIMEOUT_S) as answer:  # noqa: S310 - the local stack
        spec: dict[str, Any] = json.loads(answer.read())
        return spec


def served_operations(base_url: str) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the served document lists."""
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    paths: dict[str, dict[str, Any]] = served_spec(base_url)["paths"]
    return [(m.upper(), path) for path, operations in paths.items() for m in operations if m in methods]


def caller_headers(caller: str, key: bytes) -> dict[str, str]:
    """The Authorization header `caller` sends: none, a well-formed token the stack did not sign, or a role's."""
    if caller == NOBODY:
        return {}
    if caller == FORGED:
        return {"Authorization": f"Bearer {auth_tokens.mint(b'not-the-stack-key', Role.ADMIN)}"}
    return {"Authorization": f"Bearer {auth_tokens.mint(key, caller)}"}


def fuzz(base_url: str, key: bytes, caller: str, examples: int, spec: dict[str, Any] | None = None) -> Report:
    """Every operation of the served document, `examples` cases per generation mode, as `caller`."""
    schema = schemathesis.openapi.from_dict(spec or served_spec(base_url))
    headers = caller_headers(caller, key)
    report = Report(caller)
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if isinstance(result, Err):  # an operation schemathesis cannot read is a finding too
                error = result.err()
                found = (error.label, "Invalid operation", 0)
                report.findings[found] = Finding(found[0], found[1], 0, str(error), "")
                continue
            operation = result.ok()
            report.operations += 1
            for mode in MODES:
                strategy = operation.as_strategy(generation_mode=mode, headers=headers)
                _run(strategy, examples, lambda case: _exercise(case, base_url, session, headers, report))
    return report


def _run(strategy: Any, examples: int, body: Callable[[Any], None]) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def test(case: Any) -> None:
        body(case)

    with contextlib.suppress(Unsatisfiable), warnings.catch_warnings():  # Unsatisfiable: nothing to make invalid
        # schemathesis draws a few values from `random` inside its strategies (Hypothesis warns):
        # those are not derandomized, the rest of each case is.
        warnings.filterwarnings("ignore", "Do not use the `random` module", HypothesisDeprecationWarning)
        test()


def _exercise(
    case: schemathesis.Case, base_url: str, session: requests.Session, headers: dict[str, str], report: Report
) -> None:
    response = case.call(base_url=base_url, session=session, headers=headers, timeout=TIMEOUT_S)
    report.requests += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            _record(report, case, failure, response.status_code, base_url)


def _record(report: Report, case: schemathesis.Case, failure: Failure, status: int, base_url: str) -> None:
    operation = f"{case.method.upper()} {case.path}"
    found = (operation, failure.title, status)
    if found not in report.findings:
        curl = case.as_curl_command(base_url=base_url)
        report.findings[found] = Finding(operation, failure.title, status, failure.message, curl)


def timed(base_url: str, key: bytes, callers: tuple[str, ...], examples: int) -> tuple[list[Report], float]:
    """Reports for each caller (the document read once) and the seconds the run took."""
    started = time.perf_counter()
    spec = served_spec(base_url)
    reports = [fuzz(base_url, key, caller, examples, spec) for caller in callers]
    return reports, time.perf_counter() - started
