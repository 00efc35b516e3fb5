"""Name resolution through the system resolver (getaddrinfo): every address, IPv4 and IPv6, within a
time bound.

getaddrinfo has no timeout of its own: a resolver that does not answer would hold a delivery
attempt (and the registration request) for as long as the system's resolver configuration retries.
The lookup runs on a worker thread and is given up after `timeout` seconds: an unanswered name
resolves to nothing, which refuses a registration and fails an attempt (retried with backoff).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from typing import Any

LOOKUP_SECONDS = 2.0  # of the attempt's 5 s: the connection and the answer get the rest
_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dns")


def _getaddrinfo(host: str) -> list[Any]:
    return socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)


class SystemHosts:
    def __init__(self, timeout: float = LOOKUP_SECONDS, lookup: Callable[[str], list[Any]] = _getaddrinfo) -> None:
        self._timeout = timeout
        self._lookup = lookup

    def addresses(self, host: str) -> list[str]:
        try:
            found = _LOOKUPS.submit(self._lookup, host).result(timeout=self._timeout)
        except LookupTimeout:
            return []  # the worker finishes on its own; its answer is not waited for
        except (socket.gaierror, UnicodeError, ValueError):  # ValueError: a NUL in the name
            return []
        return sorted({str(info[4][0]) for info in found})
