"""Calls from this process to the local moto server, served in the calling thread, without a socket.

Every boto3 call a function makes in `ecrm local` went over HTTP to moto in the same process: a
TCP connection per call (moto's server closes each one), a server thread started per connection,
and two thread wake-ups per call. On a busy laptop each wake-up waits for a CPU and then for the
GIL, so a campaign's mail waited mostly for its own DynamoDB and SES calls to be picked up.

Here a call addressed to the moto endpoint is handed to the same WSGI application the server runs
(routing, moto's responses, the local stack's DynamoDB serialization), in the caller's thread; the
request botocore built, signed and will parse is unchanged, and so is everything the handlers do.
Clients outside this process (a developer's AWS CLI, the browser tier) still use the HTTP server.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_EVENT = "before-send"
_lock = threading.Lock()
_target: tuple[str, Callable[[], WsgiApp]] | None = None


class _Body:
    """What botocore reads a response body from, for a body already in memory: `raw.stream()` for
    parsed answers, `raw.read(amt)` for streamed ones (S3 GetObject's `Body`, a StreamingBody)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._reader = io.BytesIO(data)

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._data

    def read(self, amt: int | None = None) -> bytes:
        return self._reader.read(amt)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._reader.close()


def _environ(request: Any, endpoint: str) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    url = urlsplit(request.url)
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    builder = EnvironBuilder(
        method=request.method,
        base_url=endpoint,
        path=url.path,
        query_string=url.query,
        headers=headers,
        data=body or b"",
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _dispatch(request: Any, **_: Any) -> Any:
    """botocore's `before-send` hook: the response to a request for the local moto, else None
    (botocore then sends it over the network as usual)."""
    from botocore.awsrequest import AWSResponse
    from werkzeug.test import run_wsgi_app

    target = _target
    if target is None or not request.url.startswith(target[0]):
        return None
    endpoint, app = target
    iterable, status, headers = run_wsgi_app(app(), _environ(request, endpoint))
    try:
        data = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    code = int(status.split(" ", 1)[0])
    return AWSResponse(request.url, code, headers, _Body(data))  # type: ignore[arg-type] # copied to a HeadersDict


def install(endpoint: str, app: Callable[[], WsgiApp]) -> None:
    """Serve calls to `endpoint` made by botocore sessions created from now on (and boto3's default
    session) with the WSGI application `app()` returns, until `uninstall()`."""
    import boto3
    from botocore import handlers

    global _target
    with _lock:
        _target = (endpoint.rstrip("/") + "/", app)
        if (_EVENT, _dispatch) not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.append((_EVENT, _dispatch))
        default: Any = boto3.DEFAULT_SESSION
        if default is not None:  # made before the stack started: give it the hook too
            default._session.unregister(_EVENT, _dispatch)
            default._session.register(_EVENT, _dispatch)


def uninstall() -> None:
    """Sessions made while installed keep the hook, which now passes every request on."""
    from botocore import handlers

    global _target
    with _lock:
        _target = None
        if (_EVENT, _dispatch) in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.remove((_EVENT, _dispatch))
