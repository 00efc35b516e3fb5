"""integration: no event is lost and no effect happens twice when a process dies at any step.

Each write path is run once cleanly to count its AWS calls (the handler's and the relay's that
carry its events to the bus). Then, for every call, a fresh scenario dies right before it and
right after it (a `Crash` is a BaseException, so no `except Exception` in our code can swallow it,
as none can swallow a killed process). After the crash the caller retries (an HTTP client; for a
queue, SQS redelivers) and the relay reads the stream as Lambda would. Then every event the
committed state implies is on the bus, and every effect (contacts, consent mails) happened once.
"""

from __future__ import annotations

import importlib
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from ecrm.cases.names import Resource
from ecrm.clock import SYSTEM_CLOCK
from ecrm.loyalty import names as loyalty
from ecrm_local import pollers, schedules

from tests.integration.test_contacts_api import confirm_token, sent_mail
from tests.loyalty_support import order, publish
from tests.support import LambdaContext, Stack, aws_calls

CONSENT_QUEUE = "ConsentMailQueue"


class Crash(BaseException):
    """The process dies here."""


@contextmanager
def dying_at(step: int | None, after: bool) -> Iterator[list[str]]:
    """Every AWS call counted (its operation names listed); at call number `step` the process dies
    before the call is sent, or after its answer came back (`after`): the change made, unanswered."""

    def die(n: int, operation: str, answered: bool) -> None:
        if n == step and answered == after:
            raise Crash(f"{'after' if after else 'before'} {operation}")

    with aws_calls(die) as calls:
        yield calls


@dataclass(frozen=True)
class Path:
    """A write path: `prepare` (run cleanly) returns what `act` needs; `act` is the call that may die
    and is repeated; `expect` lists the (detail-type, contact) events its committed change implies."""

    name: str
    prepare: Callable[[Stack, str], dict[str, Any]]
    act: Callable[[Stack, dict[str, Any]], None]
    expect: tuple[str, ...]


def _capture(stack: Stack, email: str, **fields: Any) -> str:
    answer = stack.call("POST", "/contacts", {"email": email, "marketing_consent": True, **fields})
    assert answer.status in (200, 201), answer.body
    return str(answer.json["id"])


def _contact_id(stack: Stack, email: str) -> str | None:
    found = stack.call("GET", "/contacts", query={"email": email}, roles="admin").json["items"]
    return str(found[0]["id"]) if found else None


def _confirm_token(stack: Stack, email: str) -> str:
    _capture(stack, email)
    stack.deliver(CONSENT_QUEUE)
    (raw,) = [m.raw_data for m in sent_mail() if f"To: {email}" in m.raw_data]
    return confirm_token(raw)


def _post(stack: Stack, method: str, path: str, body: Any = None, roles: str | None = None) -> None:
    answer = stack.call(method, path, body, roles=roles)
    assert answer.status < 500, (method, path, answer.status, answer.body)


PATHS = (
    Path(
        "capture a new contact",
        prepare=lambda stack, email: {"email": email},
        act=lambda stack, ctx: _post(stack, "POST", "/contacts", {"email": ctx["email"], "marketing_consent": True}),
        expect=("ContactCaptured.v1",),
    ),
    Path(
        "capture merges into a contact",
        prepare=lambda stack, email: {"email": email, "id": _capture(stack, email, marketing_consent=False)},
        act=lambda stack, ctx: _post(stack, "POST", "/contacts", {"email": ctx["email"], "tags": "vip"}),
        expect=("ContactCaptured.v1", "ContactUpdated.v1"),
    ),
    Path(
        "confirm consent",
        prepare=lambda stack, email: {"token": _confirm_token(stack, email)},
        act=lambda stack, ctx: _post(stack, "POST", "/contacts/confirm", {"token": ctx["token"]}),
        expect=("ContactCaptured.v1", "ConsentConfirmed.v1"),
    ),
    Path(
        "staff edit",
        prepare=lambda stack, email: {"id": _capture(stack, email, marketing_consent=False)},
        act=lambda stack, ctx: _post(stack, "PATCH", f"/contacts/{ctx['id']}", {"first_name": "Zoe"}, roles="admin"),
        expect=("ContactCaptured.v1", "ContactUpdated.v1"),
    ),
    Path(
        "erasure",
        prepare=lambda stack, email: {"id": _capture(stack, email, marketing_consent=False)},
        act=lambda stack, ctx: _post(stack, "DELETE", f"/contacts/{ctx['id']}", roles="admin"),
        expect=("ContactCaptured.v1", "ContactErased.v1"),
    ),
    Path(
        "a case requester becomes a contact",
        prepare=lambda stack, email: {"email": email},
        act=lambda stack, ctx: _post(
            stack,
            "POST",
            "/cases/agent",
            {"requester_email": ctx["email"], "subject": "Help", "description": "x"},
            "agent",
        ),
        expect=("ContactCaptured.v1",),
    ),
)


def crash_points(name: str, clean: list[str]) -> Iterator[tuple[int, bool, str]]:
    """Every step boundary of a path's clean run: (call number, dying after it?, how to say so)."""
    for step, after in itertools.product(range(len(clean)), (False, True)):
        yield step, after, f"{name}, dying {'after' if after else 'before'} call {step} ({clean[step]})"


def lost(stack: Stack, entity_id: str, expect: tuple[str, ...]) -> list[str]:
    """The expected detail-types that never reached the bus for `entity_id`."""
    seen = _events_of(stack, entity_id)
    return [t for t in expect if t not in seen]


def _events_of(stack: Stack, entity_id: str) -> list[str]:
    """The detail-types of the events whose detail names `entity_id` (contact, case, member)."""
    return [t for t, detail in stack.bus_events() if entity_id in {str(v) for v in detail.values()}]


def _consent_mails_sent(stack: Stack, contact_id: str) -> int:
    items = (
        boto3.resource("dynamodb")
        .Table(stack.env["CONTACTS_TABLE_NAME"])
        .query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"CONTACT#{contact_id}"})["Items"]
    )
    return sum(1 for i in items if str(i["sk"]).startswith("MAIL#") and i.get("status") == "sent")


def _run(stack: Stack, path: Path, step: int | None, after: bool) -> tuple[list[str], str, dict[str, Any]]:
    email = f"f-{uuid.uuid4().hex[:12]}@example.com"
    ctx = path.prepare(stack, email)
    stack.relay()  # what preparing committed is on the bus: the calls counted are the path's own
    with dying_at(step, after) as calls, suppress(Crash):
        path.act(stack, ctx)
    path.act(stack, ctx)  # the retry: the caller again, or SQS's redelivery
    stack.deliver(CONSENT_QUEUE)
    return calls, email, ctx


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_crash_at_any_step_loses_no_event_and_repeats_no_effect(stack: Stack, path: Path) -> None:
    clean, _, _ = _run(stack, path, step=None, after=False)
    assert clean, "the path made no AWS call"
    for step, after, where in crash_points(path.name, clean):
        _, email, ctx = _run(stack, path, step, after)
        contact_id = ctx.get("id") or _contact_id(stack, email)
        assert contact_id, f"{where}: no contact"
        missing = lost(stack, contact_id, path.expect)
        assert not missing, f"{where}: lost {missing}"
        assert _consent_mails_sent(stack, contact_id) <= 1, f"{where}: consent mail sent twice"


# --- queue consumers and timers: the message is delivered again after the crash -----------------


def _take(stack: Stack, queue: str) -> list[dict[str, Any]]:
    """Every message waiting on a trigger queue, taken off it: the test delivers them itself, again
    after a crash, as SQS would once the visibility timeout ran out."""
    sqs: Any = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env[f"_queue:{queue}"])["QueueUrl"]
    taken: list[dict[str, Any]] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages"):
        taken += got
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return taken


def _deliver(function: str, messages: list[dict[str, Any]]) -> None:
    event = pollers.sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{function}", "us-east-1")
    answer = importlib.import_module(f"{function}.handler").lambda_handler(event, LambdaContext(function))
    assert answer == {"batchItemFailures": []}, answer


@dataclass(frozen=True)
class Consumer:
    """A queue consumer's path: `prepare` leaves its messages on `queue` and returns (the id its
    events name, what `check` needs); `check` asserts its effects happened once."""

    name: str
    queue: str
    function: str
    prepare: Callable[[Stack], tuple[str, dict[str, Any]]]
    expect: tuple[str, ...]
    check: Callable[[Stack, dict[str, Any]], None]


def _intake_message(stack: Stack) -> tuple[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:12]
    message = {
        "schema_version": 1,
        "channel": "email",
        "message_id": f"<{tag}@mail.example.com>",
        "requester": {"email": f"r-{tag}@example.com"},
        "subject": "Invoice wrong",
        "description": "Charged twice.",
    }
    sqs: Any = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env[f"_queue:{Resource.CASE_INTAKE_QUEUE}"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return "", {"message_id": message["message_id"]}  # the case's id is known once it exists


def _cases_for(stack: Stack, message_id: str) -> list[dict[str, Any]]:
    return [i for i in stack.table_items("CASES_TABLE_NAME") if i["pk"] == f"MSG#email#{message_id}"]


def _check_intake(stack: Stack, ctx: dict[str, Any]) -> None:
    (ref,) = _cases_for(stack, ctx["message_id"])  # one case for the message, however often it came
    ctx["id"] = ref["case_id"]


def _order(stack: Stack) -> tuple[str, dict[str, Any]]:
    member = uuid.uuid4().hex
    publish((loyalty.DetailType.ORDER_PLACED, order(f"O-{member[:8]}", 10_000, contact_id=member)))
    return member, {"member": member}


def _check_points(stack: Stack, ctx: dict[str, Any]) -> None:
    answer = stack.call("GET", f"/loyalty/members/{ctx['member']}", roles="agent")
    assert answer.json["balance"] == 100, answer.body  # 100.00 EUR earn 100 points, once


def _urgent_case_due(stack: Stack) -> tuple[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:12]
    answer = stack.call("POST", "/cases/agent", {"requester_email": f"u-{tag}@example.com", "subject": "Down",
                                                 "description": "x", "priority": "urgent"}, roles="agent")  # fmt: skip
    assert answer.status == 201, answer.body
    case_id = str(answer.json["id"])
    steps = stack.call("GET", f"/cases/{case_id}", roles="agent").json["sla_steps"]
    breach = min(s["at"] for s in steps if s["milestone"] == "first_response" and s["step"] == 1)
    SYSTEM_CLOCK.advance((datetime.fromisoformat(breach) - SYSTEM_CLOCK.now()).total_seconds() + 1)
    stack.relay()
    schedules.Firing(boto3.session.Session(), SYSTEM_CLOCK).fire_due()  # due timers go to the timer queue
    return case_id, {"id": case_id}


def _check_escalated_once(stack: Stack, ctx: dict[str, Any]) -> None:
    case = stack.call("GET", f"/cases/{ctx['id']}", roles="agent").json
    breaches = [e for e in case["history"] if e["action"] == "escalated"]
    assert case["escalation_level"] == 1 and len(breaches) == 1, (case["escalation_level"], breaches)


CONSUMERS = (
    Consumer(
        "case intake (queue)",
        Resource.CASE_INTAKE_QUEUE,
        "cases_intake",
        _intake_message,
        ("CaseCreated.v1",),
        _check_intake,
    ),
    Consumer(
        "loyalty accrual (queue)",
        loyalty.Resource.LOYALTY_ACCRUAL_QUEUE,
        "loyalty_accrual",
        _order,
        ("PointsEarned.v1",),
        _check_points,
    ),
    Consumer(
        "SLA breach (timer)",
        Resource.CASE_TIMER_QUEUE,
        "cases_timers",
        _urgent_case_due,
        ("SlaBreached.v1", "CaseEscalated.v1"),
        _check_escalated_once,
    ),
)


def _consume(stack: Stack, path: Consumer, step: int | None, after: bool) -> tuple[list[str], str, dict[str, Any]]:
    entity_id, ctx = path.prepare(stack)
    stack.relay()  # the rules feed the queue: what the test takes is the message(s) to deliver
    messages = _take(stack, path.queue)
    assert messages, f"{path.name}: nothing on {path.queue}"
    with dying_at(step, after) as calls, suppress(Crash):
        _deliver(path.function, messages)
        stack.relay()
    _deliver(path.function, messages)  # SQS delivers the message(s) again
    stack.relay()
    path.check(stack, ctx)
    return calls, ctx.get("id", entity_id), ctx


@pytest.mark.parametrize("path", CONSUMERS, ids=lambda p: p.name)
def test_a_consumer_dying_at_any_step_loses_no_event_and_repeats_no_effect(stack: Stack, path: Consumer) -> None:
    clean, _, _ = _consume(stack, path, step=None, after=False)
    assert clean, "the path made no AWS call"
    for step, after, where in crash_points(path.name, clean):
        _, entity_id, _ = _consume(stack, path, step, after)
        missing = lost(stack, entity_id, path.expect)
        assert not missing, f"{where}: lost {missing}"
