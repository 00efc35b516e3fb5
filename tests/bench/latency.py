"""In-process latency of the capture route under moto against a bare Powertools hello route."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tests.support import LambdaContext, moto_stack

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


def measure(n: int) -> tuple[list[float], list[float], int]:
    event = {
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
    with moto_stack() as stack:
        stack.call("POST", "/contacts", {"email": "warm@example.com"})  # composition, as a warm Lambda
        tracemalloc.start()
        # Half new contacts, half repeat posts that merge: the two capture paths.
        capture = _timed(
            lambda i: stack.call("POST", "/contacts", {"email": f"c{i // 2}@example.com", "tags": [f"t{i % 3}"]}), n
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return hello_samples, capture, peak
