"""`ecrm local` with its functions' AWS calls recorded (tests/grants.py), for the e2e tier.

`python -m tests.e2e.recorded_local REPORT local --port ...` runs the local stack as the CLI does
and, when it stops, writes to REPORT the calls the declared grants would not allow (AWS would
refuse them) and every call made. The e2e conftest fails the session on a refusal and adds the
calls to the session's record (the summary of declared actions no test exercised).
"""

from __future__ import annotations

import json
import sys
from dataclasses import astuple
from pathlib import Path

from ecrm_local import cli

from tests.grants import Recorder


def main(argv: list[str]) -> int:
    report, *args = argv
    with Recorder().installed() as recorder:
        try:
            return cli.main(args)
        finally:
            calls = [astuple(call) for call in sorted(set(recorder.calls))]
            refused = [str(call) for call in recorder.refused()]
            Path(report).write_text(json.dumps({"refused": refused, "calls": calls}, indent=1))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
