"""Run a topology function in this process, the way Lambda would: import `<name>.handler`, call it."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from functools import cache
from typing import Any

from ecrm_infra import topology

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
# Lambda runs one request at a time per execution environment, and a handler holds per-invocation
# state in its module globals (the resolver's current event): one function's invocations take
# turns. Different functions run side by side, as in AWS: a campaign sending for minutes must not
# hold up the API (one lock for all once made every request wait for the sender's whole batch).
_LOCKS = {fn.name: threading.RLock() for fn in topology.FUNCTIONS}


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, fn: topology.Function) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = fn.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + fn.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def handler_module(name: str) -> Any:
    return importlib.import_module(f"{name}.handler")


def invoke(name: str, event: dict[str, Any]) -> Any:
    fn = function(name)
    module = handler_module(name)
    with _LOCKS[name]:
        return module.lambda_handler(event, LambdaContext(fn))


def metrics_per_thread() -> None:
    """For the local stack's lifetime (it runs functions on several threads): see below."""
    _metrics_per_thread()


@cache
def _metrics_per_thread() -> type:
    """Every function shares one Powertools `Metrics` (ecrm.observability), whose buffered metrics
    live in one process-wide dict: in AWS each execution environment has its own process, here two
    functions running at once would add to and flush (iterate, clear) the same dict. Each invoking
    thread gets its own buffers instead."""
    from ecrm.observability import metrics

    provider: Any = metrics.provider
    state = threading.local()

    def per_thread(name: str, empty: type) -> property:
        def get(self: Any) -> Any:
            if not hasattr(state, name):
                setattr(state, name, empty())
            return getattr(state, name)

        def put(self: Any, value: Any) -> None:
            setattr(state, name, value)

        return property(get, put)

    buffers = {"metric_set": dict, "dimension_set": dict, "metadata_set": dict, "dimension_sets": list}
    base = type(provider)
    provider.__class__ = type(f"PerThread{base.__name__}", (base,), {n: per_thread(n, e) for n, e in buffers.items()})
    return base


def metrics_shared_again() -> None:
    """Undo `_metrics_per_thread` (a stopped stack leaves the process's Metrics as it found them:
    tests that run a stack and then read the buffers directly would read a thread's copy)."""
    if _metrics_per_thread.cache_info().currsize:
        from ecrm.observability import metrics

        provider: Any = metrics.provider
        provider.__class__ = _metrics_per_thread()
        _metrics_per_thread.cache_clear()


def function(name: str) -> topology.Function:
    for fn in topology.FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(f"no function {name!r} in the topology; known: {[f.name for f in topology.FUNCTIONS]}")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
