"""Every tier: AWS calls made by functions are recorded and judged against their declared grants.

moto enforces no IAM. The recorder (tests/grants.py) stands in for it: a test during which a
function asked AWS for something its role would not be granted fails, naming the function, the
action and the resource. At the end, the declared actions no test exercised are listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ecrm_infra import topology

from tests.grants import Recorder

RECORDER = Recorder()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--grants-report",
        metavar="PATH",
        help="write each function's recorded IAM actions (and declared ones never exercised) to PATH as JSON",
    )


@pytest.fixture(scope="session", autouse=True)
def _aws_calls_recorded() -> Iterator[Recorder]:
    with RECORDER.installed():
        yield RECORDER


@pytest.fixture(autouse=True)
def _grants_allow_every_call(_aws_calls_recorded: Recorder) -> Iterator[None]:
    since = len(_aws_calls_recorded.calls)
    yield
    refused = _aws_calls_recorded.refused(since)
    if refused:
        lines = "\n".join(f"  {call}" for call in refused)
        pytest.fail(f"AWS would refuse these calls: the functions' grants (topology) lack them\n{lines}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not RECORDER.calls:
        return
    unused, used = RECORDER.unused(), RECORDER.used()
    terminalreporter.section("IAM grants: declared actions no test exercised")
    for function, idle in sorted(unused.items()):
        if function in used:  # a function this run never ran tells nothing
            terminalreporter.write_line(f"{function}: {', '.join(idle)}")
    if silent := sorted(fn.name for fn in topology.FUNCTIONS if fn.name not in used):
        terminalreporter.write_line(f"functions no test ran: {', '.join(silent)}")
    path = config.getoption("--grants-report")
    if path:
        listed = {fn: sorted(f"{action} on {resource}" for action, resource in pairs) for fn, pairs in used.items()}
        Path(path).write_text(json.dumps({"used": listed, "unused": unused}, indent=2, sort_keys=True) + "\n")
