"""Run a topology function in this process, the way Lambda would: import `<name>.handler`, call it."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from typing import Any

from ecrm_infra import topology

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
# Lambda runs one request at a time per execution environment, and handlers hold per-invocation
# state in module globals (the resolver's current event, the Logger's keys, buffered metrics):
# concurrent HTTP requests and queue pollers therefore take turns.
_INVOKE_LOCK = threading.RLock()


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
    with _INVOKE_LOCK:
        return module.lambda_handler(event, LambdaContext(fn))


def function(name: str) -> topology.Function:
    for fn in topology.FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(f"no function {name!r} in the topology; known: {[f.name for f in topology.FUNCTIONS]}")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
