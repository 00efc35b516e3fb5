"""Keep the handlers' own output out of the benchmark report.

The handlers log (Powertools Logger) and print EMF metric lines: part of the cost measured, not of
the report. The Logger's handler holds the stream it was created with, so redirecting stdout alone
would leave it writing to a file closed once the redirection ends; both are pointed at /dev/null
for the duration and restored after.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    from ecrm.observability import logger

    handler = logger.registered_handler
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        previous = handler.setStream(sink)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]
