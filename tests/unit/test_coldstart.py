"""unit: the collector pauses while a function loads and resumes after (ecrm.coldstart, decision
104). Each case runs in a fresh interpreter: the pause belongs to a process's first handler."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.bench.run import ENV


def _fresh(code: str) -> list[object]:
    out = subprocess.run([sys.executable, "-c", code], env=ENV, check=True, capture_output=True, text=True)
    return list(json.loads(out.stdout))


def test_the_collector_is_off_while_loading_and_on_after_with_what_loaded_frozen() -> None:
    code = """
import gc, json
from ecrm import coldstart
during = gc.isenabled()
coldstart.loaded()
after, frozen = gc.isenabled(), gc.get_freeze_count()
coldstart.loaded()  # a second handler in the same process changes nothing
print(json.dumps([during, after, frozen > 0, gc.isenabled(), gc.get_freeze_count() == frozen]))
"""
    assert _fresh(code) == [False, True, True, True, True]


def test_a_loaded_handler_leaves_the_collector_on() -> None:
    code = """
import gc, json
import contacts_api.handler
print(json.dumps([gc.isenabled(), gc.get_freeze_count() > 10000]))
"""
    assert _fresh(code) == [True, True]


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    code = """
import gc, json
gc.disable()
from ecrm import coldstart
coldstart.loaded()
print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))
"""
    assert _fresh(code) == [False, 0]
