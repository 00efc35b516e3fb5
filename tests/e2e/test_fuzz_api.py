"""e2e: schemathesis fuzzes every operation of the OpenAPI document the local stack serves, as each
caller (nobody, a forged token, each role): no server error, and every answer has a status, a
content type and a body the document declares for it (decision 66). A bounded run: EXAMPLES cases
per operation and generation mode (valid and invalid); `make bench ONLY=fuzz` runs long ones.

Fuzzing writes what it likes (contacts, templates, policies), so it gets a stack of its own rather
than the session's, which the other e2e tests read exact states from.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import api_fuzz
from tests.e2e.conftest import Local, running_stack
from tests.grants import Recorder

pytestmark = pytest.mark.e2e

EXAMPLES = 2


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, _aws_calls_recorded: Recorder) -> Iterator[Local]:
    with running_stack(tmp_path_factory.mktemp("ecrm-fuzz"), _aws_calls_recorded) as stack:
        yield stack


@pytest.mark.parametrize("caller", api_fuzz.CALLERS)
def test_every_operation_answers_as_documented(fuzzed: Local, caller: str) -> None:
    report = api_fuzz.fuzz(fuzzed.base, fuzzed.key, caller, EXAMPLES)
    print(report.summary())
    assert report.operations == len(api_fuzz.served_operations(fuzzed.base)), "an operation was not fuzzed"
    assert report.requests >= report.operations, "fewer requests than operations: something was skipped"
    assert not report.findings, f"the API breaks its OpenAPI document:\n{report.summary()}"
