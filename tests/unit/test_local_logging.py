"""unit: the local stack's own log survives the filter Powertools puts on the root logger's handlers
(it drops any record whose logger name contains the service name, "ecrm")."""

from __future__ import annotations

import io
import logging

from aws_lambda_powertools.logging.filters import SuppressFilter
from ecrm.names import SERVICE
from ecrm_local import pollers, schedules, server, stack


def test_the_local_stacks_errors_pass_powertools_root_filter():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SuppressFilter(SERVICE))  # what Logger(service="ecrm") adds to each root handler
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        for module in (server, pollers, schedules, stack):
            module.log.error("seen from %s", module.__name__)
    finally:
        root.removeHandler(handler)
    for module in (server, pollers, schedules, stack):
        assert f"seen from {module.__name__}" in out.getvalue()
