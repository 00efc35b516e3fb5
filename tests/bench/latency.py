"""In-process latency of the capture route under moto against a bare Powertools hello route."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tests.support import LambdaContext, Stack, moto_stack

ROUND = 50
hello_app = APIGatewayRestResolver()


@hello_app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


def _timed(call: Any, n: int) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


def _poster(stack: Stack) -> Callable[[int], None]:
    def post(i: int) -> None:
        # Half new contacts, half repeat posts that merge: the two capture paths.
        stack.call("POST", "/contacts", {"email": f"c{i // 2}@example.com", "tags": [f"t{i % 3}"]})

    return post


def measure(n: int) -> tuple[list[float], list[float], list[float], int]:
    event: dict[str, Any] = {
        "resource": "/hello",
        "path": "/hello",
        "httpMethod": "GET",
        "headers": {},
        "requestContext": {},
        "queryStringParameters": None,
        "pathParameters": None,
        "body": None,
        "isBase64Encoded": False,
    }
    context: Any = LambdaContext("hello")
    hello_samples = _timed(lambda _: hello_app.resolve(event, context), n)
    one_call: list[float] = []
    capture: list[float] = []
    # moto's TransactWriteItems deep-copies the whole table (its rollback), so its cost grows with
    # the table; DynamoDB's does not. Rounds on a fresh stack keep the table small and the figure honest.
    for _ in range(max(1, n // ROUND)):
        with moto_stack() as stack:
            stack.call("POST", "/contacts", {"email": "warm@example.com"})  # composition, as a warm Lambda
            # A second baseline: the hello route plus one DynamoDB GetItem under moto.
            db = boto3.client("dynamodb")
            key = {"pk": {"S": "CONTACT#none"}, "sk": {"S": "PROFILE"}}
            table = stack.env["CONTACTS_TABLE_NAME"]

            def hello_and_get(_: int, db: Any = db, table: str = table, key: dict[str, Any] = key) -> None:
                hello_app.resolve(event, context)
                db.get_item(TableName=table, Key=key)

            one_call += _timed(hello_and_get, ROUND)

            capture += _timed(_poster(stack), ROUND)
    with moto_stack() as stack:
        # Memory in its own pass: tracemalloc slows every allocation, so it never overlaps the timing.
        post = _poster(stack)
        post(0)
        tracemalloc.start()
        for i in range(1, ROUND):
            post(i)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return hello_samples, one_call, capture, peak
