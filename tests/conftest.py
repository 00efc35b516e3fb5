"""Every tier: AWS calls made by functions are recorded and judged against their declared grants.

moto enforces no IAM. The recorder (tests/grants.py) stands in for it: a test during which a
function asked AWS for something its role would not be granted fails, naming the function, the
action and the resource. At the end, the declared actions no test exercised are listed.

`make test` runs the suite on every core (pytest-xdist, `--dist loadfile`, decision 98): each
test file on one worker (its module fixtures built once, its tests in order). The workers send
the calls they recorded to the controller, which judges the whole run's grants as one process
would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
from ecrm_infra import topology

from tests.grants import Call, Recorder

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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand the calls it recorded to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["grant_calls"] = [astuple(call) for call in sorted(set(RECORDER.calls))]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """On the xdist controller: a worker's recorded calls join the run's."""
    output = getattr(node, "workeroutput", {})
    RECORDER.calls.extend(Call(*row) for row in output.get("grant_calls", []))


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
