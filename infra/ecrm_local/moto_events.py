"""moto's EventBridge, made cheaper per event: its JSONPath expressions are parsed once.

For every event it delivers to a target, moto's EventBridge parses the target's input paths with
`jsonpath_ng.ext.parse`, which builds a PLY parser each time (about 2-4 ms here). A campaign puts
two or three SES events on the bus per mail, so parsing the same few paths again and again took a
large share of the local stack's time while it sent. The parsed expressions are immutable: the
local stack keeps them in a small cache.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

_installed = threading.Lock()


def install() -> None:
    """Cache jsonpath_ng.ext.parse in this process (idempotent); moto imports it at each call."""
    with _installed:
        ext: Any = importlib.import_module("jsonpath_ng.ext")
        if not hasattr(ext.parse, "cache_info"):
            ext.parse = functools.lru_cache(maxsize=256)(ext.parse)
