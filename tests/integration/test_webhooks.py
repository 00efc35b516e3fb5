"""integration: outbound webhooks on moto, delivered over real HTTP to a receiver on loopback.

Admins register endpoints (bad input named, SSRF refused, the secret shown once); a bus event
becomes one signed delivery per matching endpoint however often it arrives; a receiver verifies
the signature with its secret (and refuses a forger's); a 500 is retried with backoff, a 429 when
its Retry-After says; a rotated secret signs beside the new one until the overlap ends; a settled
delivery is sent again on request, failed ones in a time range by a replay; each endpoint's rate
is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from ecrm.clock import SYSTEM_CLOCK
from ecrm.webhooks.adapters.dns_hosts import SystemHosts
from ecrm.webhooks.models import AttemptMessage
from ecrm.webhooks.names import Resource
from ecrm_local import resources, schedules, webhook_deliveries

from tests.support import Stack, aws_calls
from tests.unit.webhooks.test_signatures import Refused, verify
from tests.webhook_receiver import Receiver, receiver

EVENTS, ATTEMPTS = Resource.WEBHOOK_EVENT_QUEUE, Resource.WEBHOOK_DELIVERY_QUEUE


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as got:
        yield got


def _register(stack: Stack, url: str, **extra: Any) -> dict[str, Any]:
    created = stack.admin("POST", "/webhooks", {"url": url, "event_types": ["contact.captured"], **extra})
    assert created.status == 201, created.body
    return dict(created.json)


def _capture(stack: Stack, email: str, tags: list[str] | None = None) -> str:
    return str(stack.call("POST", "/contacts", {"email": email, "tags": tags or []}).json["id"])


def _log(stack: Stack, endpoint_id: str) -> list[dict[str, Any]]:
    answer = stack.admin("GET", f"/webhooks/{endpoint_id}/deliveries")
    assert answer.status == 200, answer.body
    return list(answer.json["items"])


def _flow(stack: Stack, rounds: int = 20) -> None:
    """`stack.pump()` for the webhooks' part only (the other capabilities' consumers of the same
    events are not what these tests are about, and cost most of the time): relay, fire due
    timers, deliver the two queues, until nothing moves."""
    firing = schedules.Firing(boto3.session.Session(), SYSTEM_CLOCK)
    for _ in range(rounds):
        moved = stack.relay() + len(firing.fire_due()) + len(stack.deliver(EVENTS)) + len(stack.deliver(ATTEMPTS))
        if not moved:
            return
    raise AssertionError(f"still moving after {rounds} rounds")


def _now() -> int:
    return int(SYSTEM_CLOCK.now().timestamp())


def _items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(resources.physical_name(Resource.WEBHOOKS_TABLE))
    return sorted(table.scan()["Items"], key=lambda i: (i["pk"], i["sk"]))


def test_endpoints_are_validated_refused_when_private_and_their_secret_is_shown_once(stack: Stack, hook: Receiver):
    bad = {
        "https://10.0.0.7/hook": (400, "url"),
        "https://169.254.169.254/latest/meta-data/": (400, "url"),
        "https://[::ffff:192.168.0.1]/hook": (400, "url"),
        "ftp://127.0.0.1/hook": (400, "url"),
    }
    for url, (status, field) in bad.items():
        answer = stack.admin("POST", "/webhooks", {"url": url, "event_types": ["contact.captured"]})
        assert (answer.status, answer.json["errors"][0]["field"]) == (status, field), (url, answer.body)
    unknown = stack.admin("POST", "/webhooks", {"url": hook.url, "event_types": ["contact.exploded"]})
    assert unknown.status == 422 and unknown.json["errors"][0]["field"].startswith("event_types")
    no_field = stack.admin(
        "POST", "/webhooks", {"url": hook.url, "event_types": ["case.solved"], "filters": {"tags": ["vip"]}}
    )
    assert no_field.status == 400 and no_field.json["errors"][0]["field"] == "filters"
    extra = stack.admin("POST", "/webhooks", {"url": hook.url, "event_types": ["case.solved"], "colour": "red"})
    assert extra.status == 422 and extra.json["errors"][0]["field"] == "colour"
    assert _items() == []  # nothing written by refused requests
    for role in ("agent", "marketer"):
        body = {"url": hook.url, "event_types": ["case.solved"]}
        assert stack.call("POST", "/webhooks", body, roles=role).status == 403
    created = _register(stack, hook.url, description="CRM sync")
    assert created["secret"].startswith("whsec_") and created["id"].startswith("ep_")
    shown = stack.admin("GET", f"/webhooks/{created['id']}")
    assert shown.status == 200 and "secret" not in shown.body and "whsec_" not in shown.body
    listed = stack.admin("GET", "/webhooks").json
    assert [e["id"] for e in listed] == [created["id"]] and "whsec_" not in json.dumps(listed)
    types = {t["name"]: t for t in stack.admin("GET", "/webhooks/types").json}
    assert (
        types["contact.captured"]["event"] == "ContactCaptured.v1"
        and "email" not in types["contact.captured"]["fields"]
    )
    stale = stack.admin(
        "PUT", f"/webhooks/{created['id']}", {"url": hook.url, "event_types": ["case.solved"], "expected_version": 9}
    )
    assert stale.status == 409
    assert stack.admin("GET", "/webhooks/ep_" + "0" * 32).status == 404
    assert stack.admin("GET", "/webhooks/not-an-id").status == 422


def test_an_event_becomes_one_signed_delivery_however_often_it_arrives(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    vip_only = _register(stack, hook.url + "/vip", filters={"tags": ["vip"]})
    contact_id = _capture(stack, "ann@example.com")
    stack.deliver(EVENTS, times=2)  # the bus's event, delivered twice in one batch
    stack.bus_events()
    stack.deliver(ATTEMPTS, times=2)  # and each attempt message twice
    (got,) = hook.requests  # one POST, to the endpoint without the vip filter
    assert got.path == "/hooks/ecrm"
    assert got.json["type"] == "contact.captured" and got.json["data"]["contact_id"] == contact_id
    assert "ann@example.com" not in got.body.decode()  # ids, not personal data
    verify(endpoint["secret"], got.headers, got.body, now=_now())
    with pytest.raises(Refused):  # a forger without the secret
        verify(vip_only["secret"], got.headers, got.body, now=_now())
    assert got.headers["webhook-id"].startswith("msg_") and got.headers["content-type"] == "application/json"
    # the same event put on the bus again (a second relay): still the same one delivery
    events: Any = boto3.client("events")
    (detail,) = [d for t, d in stack.bus_events() if t == "ContactCaptured.v1"]
    bus = stack.env["EVENT_BUS_NAME"]
    entry = {
        "Source": "ecrm.contacts",
        "DetailType": "ContactCaptured.v1",
        "Detail": json.dumps(detail),
        "EventBusName": bus,
    }
    events.put_events(Entries=[entry])
    _flow(stack)
    assert len(hook.requests) == 1
    (delivery,) = _log(stack, endpoint["id"])
    assert (delivery["status"], delivery["attempts"], delivery["message_id"]) == (
        "delivered",
        1,
        got.headers["webhook-id"],
    )
    (attempt,) = delivery["log"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0 and "received" in attempt["response"]
    assert _log(stack, vip_only["id"]) == []


def test_an_erasure_forgets_the_receivers_answers_about_the_contact_now_and_later(stack: Stack, hook: Receiver):
    # A receiver's answer may echo what it knows of the contact: it is logged for 30 days, unless
    # the contact is erased; then every answer logged on a delivery naming it goes, and so do the
    # answers to attempts still to come (a retry, the erasure's own delivery).
    endpoint = _register(stack, hook.url, event_types=["contact.captured", "contact.erased"])
    ann, bob = _capture(stack, "ann@example.com"), _capture(stack, "bob@example.com")
    _flow(stack)
    hook.answers(500)
    carl = _capture(stack, "carl@example.com")
    _flow(stack)
    assert all(d["log"][0]["response"] for d in _log(stack, endpoint["id"]))  # every answer logged
    for contact in (ann, carl):
        assert stack.admin("DELETE", f"/contacts/{contact}").status == 204
    _flow(stack)
    SYSTEM_CLOCK.advance(40)  # carl's retry, after the erasure
    _flow(stack)
    by_contact: dict[str, list[dict[str, Any]]] = {}
    for delivery in _log(stack, endpoint["id"]):
        by_contact.setdefault(json.loads(delivery["payload"])["data"]["contact_id"], []).append(delivery)
    assert [d["type"] for d in by_contact[carl]] == ["contact.erased", "contact.captured"]
    assert [a["status_code"] for a in by_contact[carl][1]["log"]] == [500, 200]  # retried, delivered
    for contact in (ann, carl):
        assert {d["status"] for d in by_contact[contact]} == {"delivered"}
        assert [a["response"] for d in by_contact[contact] for a in d["log"]] == [""] * (2 if contact == ann else 3)
    (bobs,) = by_contact[bob]
    assert "received" in bobs["log"][0]["response"]  # another contact's answers stay
    # the erasure on the bus again (a duplicate) changes nothing and sends nothing
    before, posts = _log(stack, endpoint["id"]), len(hook.requests)
    (erased,) = [d for t, d in stack.bus_events() if t == "ContactErased.v1" and d["contact_id"] == ann]
    events: Any = boto3.client("events")
    bus = stack.env["EVENT_BUS_NAME"]
    events.put_events(
        Entries=[
            {
                "Source": "ecrm.contacts",
                "DetailType": "ContactErased.v1",
                "Detail": json.dumps(erased),
                "EventBusName": bus,
            }
        ]
    )
    _flow(stack)
    assert (_log(stack, endpoint["id"]), len(hook.requests)) == (before, posts)


def test_a_500_is_retried_with_backoff_and_a_429_when_its_retry_after_says(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    hook.answers(500, (429, {"Retry-After": "120"}))
    _capture(stack, "bob@example.com")
    _flow(stack)
    (first,) = _log(stack, endpoint["id"])
    assert (first["status"], first["attempts"], first["log"][0]["status_code"]) == ("pending", 1, 500)
    wait = datetime.fromisoformat(first["next_attempt_at"]) - datetime.fromisoformat(first["log"][0]["at"])
    assert timedelta(seconds=22) <= wait <= timedelta(seconds=38)  # 30 s, jittered
    _flow(stack)
    assert len(hook.requests) == 1  # not before its time
    SYSTEM_CLOCK.advance(40)
    _flow(stack)
    (second,) = _log(stack, endpoint["id"])
    assert (second["attempts"], second["log"][-1]["status_code"], second["status"]) == (2, 429, "pending")
    wait = datetime.fromisoformat(second["next_attempt_at"]) - datetime.fromisoformat(second["log"][-1]["at"])
    assert wait == timedelta(seconds=120)
    SYSTEM_CLOCK.advance(100)
    _flow(stack)
    assert len(hook.requests) == 2  # Retry-After not yet over
    SYSTEM_CLOCK.advance(21)
    _flow(stack)
    (done,) = _log(stack, endpoint["id"])
    assert (done["status"], done["attempts"], [a["status_code"] for a in done["log"]]) == (
        "delivered",
        3,
        [500, 429, 200],
    )
    assert len({r.headers["webhook-id"] for r in hook.requests}) == 1  # one message, three attempts
    assert len({r.body for r in hook.requests}) == 1
    for request in hook.requests:
        verify(endpoint["secret"], request.headers, request.body, now=int(request.headers["webhook-timestamp"]))
    # what `ecrm local` shows on /_local/webhooks.html: the endpoint, the delivery, each attempt's answer
    (shown,) = webhook_deliveries.snapshot()
    assert shown["endpoint"]["id"] == endpoint["id"] and "secret" not in json.dumps(shown)
    page = webhook_deliveries.render_html([shown])
    assert done["message_id"] in page and page.count("<td>429</td>") == 1 and "&quot;received&quot;" in page


def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    rotated = stack.admin("POST", f"/webhooks/{endpoint['id']}/rotate", {"overlap_hours": 2})
    assert rotated.status == 200, rotated.body
    new = rotated.json["secret"]
    assert new != endpoint["secret"] and new.startswith("whsec_")
    assert stack.admin("POST", f"/webhooks/{endpoint['id']}/rotate", {"overlap_hours": 500}).status == 422
    _capture(stack, "cy@example.com")
    _flow(stack)
    (during,) = hook.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verify(new, during.headers, during.body, now=_now())
    verify(endpoint["secret"], during.headers, during.body, now=_now())
    SYSTEM_CLOCK.advance(3 * 3600)
    _capture(stack, "dee@example.com")
    _flow(stack)
    after = hook.requests[-1]
    verify(new, after.headers, after.body, now=_now())
    with pytest.raises(Refused):
        verify(endpoint["secret"], after.headers, after.body, now=_now())


def test_redeliver_one_and_replay_the_failed_ones_of_a_time_range(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    since = SYSTEM_CLOCK.now() - timedelta(seconds=1)
    _capture(stack, "eve@example.com")
    _flow(stack)
    (delivered,) = _log(stack, endpoint["id"])
    path = f"/webhooks/{endpoint['id']}/deliveries/{delivered['message_id']}/redeliver"
    assert stack.admin("POST", path).status == 202
    assert stack.admin("POST", path).status == 409  # still pending: once
    _flow(stack)
    assert [r.headers["webhook-id"] for r in hook.requests] == [delivered["message_id"]] * 2
    # the endpoint disabled while an event waits: its delivery is cancelled, then replayed
    body = {"url": hook.url, "event_types": ["contact.captured"]}
    assert stack.admin("PUT", f"/webhooks/{endpoint['id']}", {**body, "enabled": False}).status == 200
    _capture(stack, "fay@example.com")
    stack.deliver(EVENTS)
    assert _log(stack, endpoint["id"])[0]["message_id"] == delivered["message_id"]  # disabled: nothing new
    assert stack.admin("POST", f"/webhooks/{endpoint['id']}/replay", {"since": since.isoformat()}).status == 409
    assert stack.admin("PUT", f"/webhooks/{endpoint['id']}", body).status == 200
    assert stack.admin("POST", f"/webhooks/{endpoint['id']}/replay", {"since": "yesterday"}).status == 422
    naive = stack.admin("POST", f"/webhooks/{endpoint['id']}/replay", {"since": "2026-01-01T00:00:00"})
    assert naive.status == 422 and naive.json["errors"][0]["field"] == "since"
    replayed = stack.admin("POST", f"/webhooks/{endpoint['id']}/replay", {"since": since.isoformat()})
    assert replayed.status == 202 and replayed.json == {"redelivered": 0, "complete": True}  # nothing failed
    unknown = f"/webhooks/{endpoint['id']}/deliveries/msg_{'0' * 32}/redeliver"
    assert stack.admin("POST", unknown).status == 404


def test_a_delivery_pending_when_its_endpoint_is_disabled_is_cancelled_and_replayed(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    body = {"url": hook.url, "event_types": ["contact.captured"]}
    since = SYSTEM_CLOCK.now() - timedelta(seconds=1)
    _capture(stack, "gus@example.com")
    stack.deliver(EVENTS)  # the delivery exists, its attempt waits on the queue
    assert stack.admin("PUT", f"/webhooks/{endpoint['id']}", {**body, "enabled": False}).status == 200
    _flow(stack)
    (cancelled,) = _log(stack, endpoint["id"])
    assert (cancelled["status"], hook.requests) == ("cancelled", [])
    assert stack.admin("PUT", f"/webhooks/{endpoint['id']}", body).status == 200
    replayed = stack.admin("POST", f"/webhooks/{endpoint['id']}/replay", {"since": since.isoformat()})
    assert replayed.status == 202 and replayed.json == {"redelivered": 1, "complete": True}
    _flow(stack)
    (delivered,) = _log(stack, endpoint["id"])
    assert delivered["status"] == "delivered" and len(hook.requests) == 1


def test_each_endpoint_keeps_to_its_rate(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url, rate_per_second=1)
    for n in range(4):
        _capture(stack, f"rate{n}@example.com")
    stack.deliver(EVENTS)
    stack.deliver(ATTEMPTS)
    assert 1 <= len(hook.requests) <= 2  # four attempts within a second or two: the rest wait
    assert {d["status"] for d in _log(stack, endpoint["id"])} == {"delivered", "pending"}
    for _ in range(6):
        SYSTEM_CLOCK.advance(3)
        _flow(stack)
    assert len(hook.requests) == 4
    assert {d["status"] for d in _log(stack, endpoint["id"])} == {"delivered"}


def test_an_endpoint_failing_for_days_is_disabled_and_the_admins_are_mailed_once(stack: Stack, hook: Receiver):
    from ecrm_local import outbox

    endpoint = _register(stack, hook.url)
    hook.answers(*[500] * 30)
    _capture(stack, "hal@example.com")
    _flow(stack)
    failing = stack.admin("GET", f"/webhooks/{endpoint['id']}").json
    assert failing["enabled"] is True and failing["failing_since"]
    SYSTEM_CLOCK.advance(5 * 86400 + 60)
    _capture(stack, "ida@example.com")
    _flow(stack)
    disabled = stack.admin("GET", f"/webhooks/{endpoint['id']}").json
    assert disabled["enabled"] is False and "5 days" in disabled["disabled_reason"]
    SYSTEM_CLOCK.advance(60)  # an attempt that failed beside the disabling one comes again: cancelled
    _flow(stack)
    assert {d["status"] for d in _log(stack, endpoint["id"])} <= {"failed", "cancelled"}
    (mail,) = [m for m in outbox.messages() if "crm-admins@example.com" in m["to"]]
    assert endpoint["id"] in mail["subject"] and hook.url in mail["text"]
    body = {"url": hook.url, "event_types": ["contact.captured"]}
    enabled = stack.admin("PUT", f"/webhooks/{endpoint['id']}", body).json
    assert enabled["enabled"] is True and enabled["failing_since"] is None and enabled["disabled_reason"] is None


class Crash(Exception):
    """The process dies here (fault injection)."""


def _dies_at(operation: str, nth: int = 1) -> Any:
    """An aws_calls hook raising before the nth request of `operation` is sent."""
    seen: list[str] = []

    def hook(_n: int, name: str, answered: bool) -> None:
        if name == operation and not answered:
            seen.append(name)
            if len(seen) == nth:
                raise Crash(operation)

    return hook


def _attempt(endpoint_id: str, message_id: str, attempt: int) -> str:
    """What the attempt message coming again does (SQS redelivers a message whose record failed)."""
    from webhooks_delivery.handler import service

    return service().attempt(AttemptMessage(endpoint_id=endpoint_id, message_id=message_id, attempt=attempt))


def test_a_crash_before_the_retry_timer_is_set_loses_no_retry(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    hook.answers(500)
    _capture(stack, "jo@example.com")
    stack.deliver(EVENTS)
    with aws_calls(_dies_at("CreateSchedule")):
        (answer,) = stack.deliver(ATTEMPTS)
    assert len(answer["batchItemFailures"]) == 1 and len(hook.requests) == 1
    (settled,) = _log(stack, endpoint["id"])
    assert (settled["attempts"], settled["next_attempt_at"] is not None) == (1, True)
    assert _attempt(endpoint["id"], settled["message_id"], 0) == "TimerRestored"
    assert _attempt(endpoint["id"], settled["message_id"], 0) == "TimerRestored"  # by name: still one timer
    SYSTEM_CLOCK.advance(40)
    _flow(stack)
    (done,) = _log(stack, endpoint["id"])
    assert (done["status"], done["attempts"], len(hook.requests)) == ("delivered", 2, 2)


def test_an_attempt_abandoned_after_its_claim_is_taken_over_once_the_claim_is_stale(stack: Stack, hook: Receiver):
    endpoint = _register(stack, hook.url)
    _capture(stack, "kim@example.com")
    stack.deliver(EVENTS)
    # UpdateItem: the second's counter, the claim, then the settle: the process dies before that
    with aws_calls(_dies_at("UpdateItem", nth=3)):
        (answer,) = stack.deliver(ATTEMPTS)
    assert len(answer["batchItemFailures"]) == 1 and len(hook.requests) == 1
    (claimed,) = _log(stack, endpoint["id"])
    assert (claimed["status"], claimed["attempts"], claimed["log"]) == ("pending", 1, [])
    assert _attempt(endpoint["id"], claimed["message_id"], 0) == "Stale"  # a live claim: a duplicate
    SYSTEM_CLOCK.advance(61)
    assert _attempt(endpoint["id"], claimed["message_id"], 0) == "Delivered"  # the abandoned claim taken over
    (done,) = _log(stack, endpoint["id"])
    assert (done["status"], done["attempts"], len(done["log"]), len(hook.requests)) == ("delivered", 1, 1, 2)
    assert hook.requests[0].headers["webhook-id"] == hook.requests[1].headers["webhook-id"]
    assert _attempt(endpoint["id"], claimed["message_id"], 0) == "Settled"


def test_a_host_that_resolves_elsewhere_at_delivery_time_is_refused_then_and_the_post_goes_to_the_checked_address(
    stack: Stack, hook: Receiver, monkeypatch: pytest.MonkeyPatch
):
    dns = {"rebind.test": ["127.0.0.1"]}
    monkeypatch.setattr(SystemHosts, "addresses", lambda _self, host: list(dns.get(host, [])))
    url = hook.url.replace("127.0.0.1", "rebind.test")
    endpoint = _register(stack, url)  # resolves to loopback, allowed here
    dns["rebind.test"] = ["10.0.0.5"]  # the name now points inside the network (DNS rebinding)
    _capture(stack, "lou@example.com")
    _flow(stack)
    (refused,) = _log(stack, endpoint["id"])
    assert (refused["status"], refused["log"][0]["status_code"], hook.requests) == ("pending", None, [])
    assert "private" in refused["log"][0]["error"]
    dns["rebind.test"] = ["127.0.0.1"]
    SYSTEM_CLOCK.advance(40)
    _flow(stack)
    (got,) = hook.requests  # sent to the address checked, named as the URL names it
    assert got.headers["host"] == url.split("/")[2]
    assert _log(stack, endpoint["id"])[0]["status"] == "delivered"
