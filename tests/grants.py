"""What each function really asks of AWS, in IAM's terms, and whether its declared grants allow it.

moto enforces no IAM, so a grant narrower than the code needs would pass every in-process test and
fail in AWS. `Recorder` watches every request botocore makes while tests run, attributes it to the
function whose handler is on the calling thread's stack (calls made by tests and the harness
themselves belong to no function and are not judged), and expands it into the IAM authorizations
AWS would check: TransactWriteItems is authorized per item (PutItem, UpdateItem, DeleteItem,
ConditionCheckItem on each item's table), TransactGetItems as GetItem, SendMessageBatch as
SendMessage, CreateSchedule and UpdateSchedule also pass the Scheduler role. Each authorization
names the topology resource it touches, so `topology.allows` can judge it against the grants.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_local.resources import bucket_name, physical_name

from tests.aws_intercept import Send, intercepted

_HANDLER_MODULES = {f"{fn.name}.handler": fn.name for fn in topology.FUNCTIONS}
_KINDS = topology.resource_kinds()
# Transaction items: each is authorized as the single-item action of its kind.
_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
# Operations whose IAM action has another name.
_ACTION_OF = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("s3", "HeadObject"): "GetObject",
    # a multipart upload's steps are authorized as s3:PutObject (AbortMultipartUpload is its own)
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
}
# Services whose every request names its one resource in a parameter.
_NAMED_BY = {"sqs": "QueueUrl", "s3": "Bucket", "secretsmanager": "SecretId"}


@dataclass(frozen=True, order=True)
class Call:
    """One authorization AWS would check: `function` asks `action` (`service:Action`) on `resource`
    (a topology resource name; `index` set for a Query on a GSI)."""

    function: str
    action: str
    resource: str
    index: str = ""  # a GSI's name, for a Query on it

    def __str__(self) -> str:
        where = f"{self.resource}/index/{self.index}" if self.index else self.resource
        return f"{self.function}: {self.action} on {where}"


def _logical(identifier: str) -> str:
    """The topology resource behind a physical name, queue URL or ARN (a secret's ARN ends in
    `-` and six random characters); anything else (a DLQ, another account's bus) is kept as it is,
    so it fails the check visibly."""
    last = identifier.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    for name, kind in _KINDS.items():
        physical = physical_name(name)
        if last == physical or (kind == "secret" and last[: -len("-AbCdEf")] == physical):
            return name
        if kind == "bucket" and last == bucket_name(name):
            return name
    return identifier


def _dynamodb(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params["RequestItems"]:
            yield operation, table, ""
    elif operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            ((kind, request),) = item.items()
            yield _TRANSACT_WRITE[kind], request["TableName"], ""
    elif operation == "TransactGetItems":
        for item in params["TransactItems"]:
            yield "GetItem", item["Get"]["TableName"], ""
    else:
        yield operation, params["TableName"], params.get("IndexName", "")


def authorizations(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(IAM action, topology resource, index) for each authorization one request needs."""
    found: list[tuple[str, str, str]]
    if service == "dynamodb":
        found = list(_dynamodb(operation, params))
    elif service in _NAMED_BY:  # one resource, named by a parameter: a queue, a bucket's objects
        found = [(_ACTION_OF.get((service, operation), operation), params.get(_NAMED_BY[service], ""), "")]
    elif service == "events":
        found = [(operation, entry.get("EventBusName", "default"), "") for entry in params.get("Entries", [])]
    elif service == "scheduler":
        group = params.get("GroupName", "default")
        found = [(operation, group, "")]
        if "Target" in params:  # passing the Scheduler role is part of the SCHEDULE grant on the group
            found.append(("iam:PassRole", group, ""))
    elif service in ("ses", "sesv2"):  # SES v2's SendEmail is authorized as ses:SendEmail, raw content too
        found = [(operation, Resource.MAIL, "")]
    else:
        found = [(operation, "*", "")]
    prefix = {"sesv2": "ses"}.get(service, service)
    return [
        (action if ":" in action else f"{prefix}:{action}", _logical(resource), index)
        for action, resource, index in found
    ]


def running_function() -> str | None:
    """The function whose handler is on this thread's stack (the innermost one), if any."""
    frame = sys._getframe(1)
    while frame is not None:
        name = _HANDLER_MODULES.get(frame.f_globals.get("__name__", ""))
        if name:
            return name
        frame = frame.f_back  # type: ignore[assignment]
    return None


@dataclass
class Recorder:
    """Every authorization asked by a function while installed, in order (thread-safe)."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        function = running_function()
        if function is None:
            return
        service = client.meta.service_model.service_name
        made = [Call(function, *found) for found in authorizations(service, operation, params)]
        with self._lock:
            self.calls.extend(made)

    def refused(self, since: int = 0) -> list[Call]:
        """The calls since `since` that the declared grants do not allow, as AWS would refuse them."""
        return sorted({call for call in self.calls[since:] if not _allowed(call)})

    def used(self) -> dict[str, set[tuple[str, str]]]:
        """Function -> the (action, resource) pairs it asked for."""
        seen: dict[str, set[tuple[str, str]]] = {}
        for call in self.calls:
            seen.setdefault(call.function, set()).add((call.action, call.resource))
        return seen

    def unused(self) -> dict[str, list[str]]:
        """Function -> declared (action on resource) pairs no recorded call asked for."""
        used = self.used()
        idle: dict[str, list[str]] = {}
        for fn in topology.FUNCTIONS:
            for resource, access in fn.grants.items():
                for action in sorted(topology.actions(resource, access)):
                    if (action, resource) not in used.get(fn.name, set()):
                        idle.setdefault(fn.name, []).append(f"{action} on {resource}")
        return idle

    @contextmanager
    def installed(self) -> Iterator[Recorder]:
        def around(client: BaseClient, operation: str, params: dict[str, Any], send: Send) -> Any:
            self.record(client, operation, params)  # before sending: AWS checks even what then fails
            return send(client, operation, params)

        with intercepted(around):
            yield self


def _allowed(call: Call) -> bool:
    fn = topology.function(call.function)
    access = fn.grants.get(call.resource)
    return access is not None and call.action in topology.actions(call.resource, access)
