"""unit: name resolution is bounded in time: a resolver that does not answer resolves to nothing."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from ecrm.webhooks.adapters.dns_hosts import SystemHosts


def test_a_resolver_that_does_not_answer_in_time_resolves_to_nothing():
    release = threading.Event()

    def hanging(host: str) -> list[Any]:
        release.wait(5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 0))]

    started = time.monotonic()
    try:
        assert SystemHosts(timeout=0.05, lookup=hanging).addresses("slow.example") == []
        assert time.monotonic() - started < 2  # given up, not waited out
    finally:
        release.set()


def test_answers_in_time_are_every_address_once_and_failures_are_none():
    def answering(host: str) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 0, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 0)),
        ]

    def failing(host: str) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert SystemHosts(lookup=answering).addresses("ok.example") == ["2001:db8::7", "203.0.113.7"]
    assert SystemHosts(lookup=failing).addresses("nx.example") == []
    assert SystemHosts().addresses("localhost")  # the real resolver, within the bound
