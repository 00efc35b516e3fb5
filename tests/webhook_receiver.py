"""A webhook receiver on loopback for the tests: a real HTTP server in a thread that keeps every
request it gets and answers from a script (status, headers), then 200."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0  # seconds each answer takes (a slow receiver)
    arrived: list[float] = field(default_factory=list)  # time.monotonic() of each request

    def answers(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        """The next answers, in order (a status, or a status and headers); 200 after them."""
        self.script.extend(a if isinstance(a, tuple) else (a, {}) for a in answers)


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    got = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/ecrm")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.arrived.append(time.monotonic())
            if got.delay:
                time.sleep(got.delay)
            got.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers = got.script.pop(0) if got.script else (200, {})
            answer = b'{"received": true}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server.RequestHandlerClass = Handler

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender that gave up on a slow answer
            ThreadingHTTPServer.handle_error(server, request, client_address)

    server.handle_error = handle_error  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
