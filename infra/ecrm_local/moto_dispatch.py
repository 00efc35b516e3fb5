"""moto's request dispatch, made cheaper per request: two answers it recomputes on every call are
kept instead.

- To route a request, moto's server lists its own package directory and stats every entry
  (`moto.backends.list_of_moto_modules`, some 150 `stat` calls), per request.
- To find the method for an action, each response object lists its class's functions with
  `inspect.getmembers` (`moto.core.utils.method_names_from_class`), per request.

Measured during a local campaign, the two took about a fifth of all the CPU moto spent. Neither
answer changes while the process runs: moto's package is not rewritten under it, and response
classes are not changed after import.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

_installed = threading.Lock()


def install() -> None:
    """Cache both answers in this process (idempotent)."""
    with _installed:
        backends: Any = importlib.import_module("moto.backends")
        if not hasattr(backends.list_of_moto_modules, "cache_info"):
            modules = tuple(backends.list_of_moto_modules())
            listed = functools.lru_cache(maxsize=1)(lambda: modules)
            backends.list_of_moto_modules = listed
        responses: Any = importlib.import_module("moto.core.responses")
        if not hasattr(responses.method_names_from_class, "cache_info"):
            responses.method_names_from_class = functools.lru_cache(maxsize=512)(responses.method_names_from_class)
