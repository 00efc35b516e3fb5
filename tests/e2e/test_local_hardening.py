"""e2e: the local stack's own safety: local control routes refuse what a web page in the developer's
browser could send, a burst of clients is answered without resets, and its log is visible."""

from __future__ import annotations

import http.client
import threading
import uuid
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e

CLIENTS = 50


@pytest.mark.parametrize("path", ["/_local/clock", "/_local/events", "/_local/outbox/engage"])
def test_a_cross_origin_text_plain_post_to_a_control_route_is_refused(local: Local, path: str):
    # What a page on another site can send without a preflight: no custom header.
    body = '{"advance_seconds": 86400, "Source": "evil", "DetailType": "x", "Detail": "{}"}'
    answer = local.call(
        "POST", path, body, {"Content-Type": "text/plain", "Origin": "https://evil.example"}, control=False
    )
    assert answer.status == 403
    bare = local.call("POST", path, body, {"Content-Type": "text/plain"}, control=False)
    assert bare.status == 403 and "X-Ecrm-Local" in bare.json["message"]


def test_the_clock_does_not_move_for_a_refused_post(local: Local):
    before = local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"]
    local.call("POST", "/_local/clock", '{"advance_seconds": 86400}', {"Content-Type": "text/plain"}, control=False)
    after = local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"]
    assert after[:13] == before[:13]  # the same hour: a day was not added


def test_even_with_the_header_a_foreign_origin_or_host_is_refused(local: Local):
    foreign = local.call("POST", "/_local/clock", {"advance_seconds": 0}, {"Origin": "https://evil.example"})
    assert foreign.status == 403
    rebound = local.call("GET", "/_local/outbox", headers={"Host": f"evil.example:{urlsplit(local.base).port}"})
    assert rebound.status == 403
    own = local.call("POST", "/_local/clock", {"advance_seconds": 0}, {"Origin": local.base})
    assert own.status == 200


def test_fifty_concurrent_clients_are_answered_without_a_reset(local: Local):
    parts = urlsplit(local.base)
    start = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            start.wait()
            connection.request("GET", "/_local/health")
            statuses.append(connection.getresponse().status)
        except OSError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == [200] * CLIENTS


def test_the_stacks_access_log_reaches_its_output(local: Local):
    probe = uuid.uuid4().hex
    assert local.call("GET", f"/_local/health?probe={probe}").status == 200
    local.wait_for(lambda: probe in local.log.read_text(), timeout=10, what="the access log line")
