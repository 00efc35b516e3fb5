"""Drive handlers in-process under moto with real-shaped events (integration tests and the bench)."""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.client import BaseClient
from ecrm import access
from ecrm.clock import SYSTEM_CLOCK
from ecrm.names import Scope
from ecrm_infra import topology
from ecrm_local import pollers, resources, schedules, streams
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from tests.aws_intercept import Send, intercepted


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stack:
    env: dict[str, str]
    tap_url: str
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    readers: list[streams.StreamReader] = field(default_factory=list)
    auto_relay: bool = True  # relay after each call, as the stream would a moment later (the bench times without)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        roles: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        user: str = "u1",
        claims: dict[str, Any] | None = None,
        client: str | None = None,
        scopes: tuple[str, ...] = (),
    ) -> Answer:
        """`roles` signs the call in as `user` with those groups, as the Cognito authorizer passes
        them; `client` as a machine client with `scopes` (short names; call it at `/integrations`
        + the route's path); `claims` gives the authorizer's claims verbatim instead (forged or
        garbled ones)."""
        machine = access.is_machine_path(path)
        route, fn = _match(method, access.declared_path(path))
        resource = route.machine_path if machine else route.path
        if claims is None and roles:
            claims = _claims(user, roles)
        if claims is None and client:
            claims = client_claims(client, scopes)
        if isinstance(body, dict):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else body
        b64 = raw is not None and (content_type.startswith("multipart/") or not _utf8(raw))
        headers = {"Content-Type": content_type, "Origin": "http://localhost:3000", **(headers or {})}
        event = {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": _params(resource, path),
            "stageVariables": None,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "path": "/prod" + path,
                "stage": "prod",
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest"},
                **({"authorizer": {"claims": claims}} if claims is not None else {}),
            },
            "body": (base64.b64encode(raw).decode() if b64 else raw.decode()) if raw is not None else None,
            "isBase64Encoded": b64,
        }
        result = _handler(fn.name).lambda_handler(event, LambdaContext(fn.name))
        if self.auto_relay:
            self.relay()
        headers_out = dict(result.get("headers") or {})
        for k, v in (result.get("multiValueHeaders") or {}).items():
            headers_out[k] = v[-1]
        return Answer(result["statusCode"], headers_out, result.get("body") or "")

    def admin(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Answer:
        return self.call(method, path, body, roles="admin", query=query)

    def relay(self) -> int:
        """What the Outbox stream's event source mapping does: hand every event committed so far to
        the relay, which puts it on the bus (the stream records handed over)."""
        if not self.readers:
            self.readers.extend(streams.readers(boto3.session.Session(), _invoke))
        return sum(reader.drain() for reader in self.readers)

    def bus_detail_types(self) -> list[str]:
        """Everything put on the bus so far, in order (a catch-all rule feeds a tap queue)."""
        return [detail_type for detail_type, _ in self.bus_events()]

    def bus_events(self) -> list[tuple[str, dict[str, Any]]]:
        """(detail-type, detail) of everything put on the bus so far, in order."""
        self.relay()
        sqs = boto3.client("sqs")
        while True:
            got = sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return self.seen
            for m in got:
                body = json.loads(m["Body"])
                self.seen.append((body["detail-type"], body["detail"]))
                sqs.delete_message(QueueUrl=self.tap_url, ReceiptHandle=m["ReceiptHandle"])

    def deliver(self, queue: str, times: int = 1) -> list[Any]:
        """Hand the messages waiting on a trigger queue to its function as real SQS batch events (each
        message `times` in its batch: a duplicate delivery), deleting those it did not report failed.
        The function's answers, one per batch."""
        fn = next(f for f in topology.FUNCTIONS if f.queue and f.queue.queue == queue)
        self.relay()
        sqs: Any = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=self.env[f"_queue:{queue}"])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        answers = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        ):
            event = pollers.sqs_event(got * times, arn, "us-east-1")
            answer = _handler(fn.name).lambda_handler(event, LambdaContext(fn.name))
            answers.append(answer)
            done = {m["ReceiptHandle"]: m for m in pollers.settled(got, answer)}
            for handle in done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
            if len(done) < len(got):
                break  # failed ones stay (invisible for a while): the caller looks at the answer
        return answers

    def pump(self, rounds: int = 20) -> None:
        """What the local stack's ticker and pollers do: fire due schedules, deliver every queue,
        until nothing moves."""
        firing = schedules.Firing(boto3.session.Session(), SYSTEM_CLOCK)
        for _ in range(rounds):
            moved = self.relay() + len(firing.fire_due())
            for trigger, _fn in topology.queue_triggers():
                moved += len(self.deliver(trigger.queue))
            if not moved:
                return
        raise AssertionError(f"still moving after {rounds} rounds")

    def table_items(self, env_var: str = "CONTACTS_TABLE_NAME") -> list[dict[str, Any]]:
        # Scan is fine in a test: it is how we prove nothing else was written.
        db = boto3.resource("dynamodb").Table(self.env[env_var])
        return sorted(db.scan()["Items"], key=lambda i: (i["pk"], i["sk"]))


def _claims(user: str, roles: str) -> dict[str, str]:
    return {"sub": user, "email": f"{user}@staff.example.com", "cognito:groups": roles, "token_use": "id"}


def client_claims(client: str, scopes: tuple[str, ...]) -> dict[str, str]:
    """A client-credentials access token's claims, as the Cognito authorizer passes them."""
    return {
        "sub": client,
        "client_id": client,
        "token_use": "access",
        "scope": " ".join(Scope.full(scope) for scope in scopes),
    }


class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


def _match(method: str, path: str) -> tuple[topology.Route, topology.Function]:
    # A literal segment wins over a path parameter, as in API Gateway.
    for route, fn in sorted(topology.routes(), key=lambda pair: pair[0].path.count("{")):
        if route.method == method and _pattern(route.path).match(path):
            return route, fn
    raise AssertionError(f"no route for {method} {path}")


def _params(template: str, path: str) -> dict[str, str] | None:
    found = _pattern(template).match(path)
    return found.groupdict() or None if found else None


def _invoke(name: str, event: dict[str, Any]) -> Any:
    return _handler(name).lambda_handler(event, LambdaContext(name))


def _handler(name: str) -> Any:
    return importlib.import_module(f"{name}.handler")


def _reset_composition() -> None:
    # Composition roots are cached per process (as in a warm Lambda); each test gets a fresh one.
    for fn in topology.FUNCTIONS:
        module = _handler(fn.name)
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()


_MOTO_LOCK = threading.RLock()


@contextmanager
def atomic_moto_requests() -> Iterator[None]:
    """Serve each mocked AWS request whole before the next, as AWS does.

    moto's in-process backends take no lock: a TransactWriteItems deep-copies the table (its
    rollback copy) while another thread writes to it ("dictionary changed size during iteration"),
    and a cancelled transaction restores that copy, silently undoing a write another thread made
    in between. Real DynamoDB applies each request atomically. Threads still interleave between
    requests (read, decide, write), which is the race the code under test must survive.
    """
    original = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with _MOTO_LOCK:
            return original(self, request)

    BotocoreStubber.process_request = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


@contextmanager
def aws_calls(hook: Callable[[int, str, bool], None] | None = None) -> Iterator[list[str]]:
    """Every AWS request made meanwhile, by any client, listed by operation; `hook(n, operation,
    answered)` runs before each request is sent (answered False) and after its answer came back
    (True): the fault-injection tests raise from it, the bench only counts."""
    calls: list[str] = []

    def around(client: BaseClient, operation: str, params: dict[str, Any], send: Send) -> Any:
        n = len(calls)
        calls.append(operation)
        if hook:
            hook(n, operation, False)
        answer = send(client, operation, params)
        if hook:
            hook(n, operation, True)
        return answer

    with intercepted(around):
        yield calls


@contextmanager
def one_rollback_copy_per_transaction() -> Iterator[None]:
    """moto's TransactWriteItems deep-copies the whole table once per item of the transaction,
    all before it writes anything, and keeps the last copy as its rollback state. The copies are
    identical: making one is the same rollback at a fraction of the cost (a ledger write has three
    items), which keeps tests and benches on a growing table from slowing with it. moto's answers
    are unchanged; only the redundant copies are skipped."""
    models: Any = importlib.import_module("moto.dynamodb.models")
    real_copy = models.copy
    real_transact = models.DynamoDBBackend.transact_write_items
    current = threading.local()

    class _Copy:
        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            made: list[tuple[Any, Any]] | None = getattr(current, "made", None)
            if made is None or not isinstance(obj, models.Table):
                return real_copy.deepcopy(obj, memo)
            for original, copied in made:
                if original is obj:
                    return copied
            copied = real_copy.deepcopy(obj, memo)
            made.append((obj, copied))
            return copied

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        current.made = []
        try:
            real_transact(self, transact_items)
        finally:
            current.made = None

    models.copy = _Copy
    models.DynamoDBBackend.transact_write_items = transact
    try:
        yield
    finally:
        models.copy = real_copy
        models.DynamoDBBackend.transact_write_items = real_transact


@contextmanager
def moto_stack() -> Iterator[Stack]:
    """Every resource from the topology in a fresh mock_aws, env vars set, composition roots fresh."""
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_NAMESPACE": "eCRM",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    offset = SYSTEM_CLOCK.offset
    try:
        with mock_aws(), atomic_moto_requests(), one_rollback_copy_per_transaction():
            env = resources.create_all(boto3.session.Session())
            os.environ.update(env)
            tap_url = _tap(env["EVENT_BUS_NAME"])
            _reset_composition()
            yield Stack(env=env, tap_url=tap_url)
    finally:
        SYSTEM_CLOCK.offset = offset
        _reset_composition()
        os.environ.clear()
        os.environ.update(saved)


def _tap(bus: str) -> str:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="test-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="test-tap", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "ecrm."}, "shop"]})
    )
    events.put_targets(Rule="test-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return url


def keyed_table(db: Any) -> str:
    """A fresh table keyed (pk, sk) as every topology table is, in the mocked DynamoDB: its name."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    db.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
