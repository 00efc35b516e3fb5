"""integration: no event is lost and no effect happens twice when a process dies at any step.

Each write path is run once cleanly to count its AWS calls (the handler's and the relay's that
carry its events to the bus). Then, for every call, a fresh scenario dies right before it and
right after it (a `Crash` is a BaseException, so no `except Exception` in our code can swallow it,
as none can swallow a killed process). After the crash the caller retries (an HTTP client; for a
queue, SQS redelivers) and the relay reads the stream as Lambda would. Then every event the
committed state implies is on the bus, and every effect (contacts, consent mails) happened once.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from tests.integration.test_contacts_api import confirm_token, sent_mail
from tests.support import Stack

CONSENT_QUEUE = "ConsentMailQueue"


class Crash(BaseException):
    """The process dies here."""


@contextmanager
def dying_at(step: int | None, after: bool) -> Iterator[list[str]]:
    """Every AWS call counted (its operation names listed); at call number `step` the process dies
    before the call is sent, or after its answer came back (`after`): the change made, unanswered."""
    calls: list[str] = []
    counter = itertools.count()
    real = BaseClient._make_api_call

    def call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        n = next(counter)
        calls.append(operation)
        if n == step and not after:
            raise Crash(f"before {operation}")
        answer = real(self, operation, params)
        if n == step and after:
            raise Crash(f"after {operation}")
        return answer

    BaseClient._make_api_call = call  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = real  # type: ignore[method-assign]


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


def _events_of(stack: Stack, contact_id: str) -> list[str]:
    return [t for t, detail in stack.bus_events() if detail.get("contact_id") == contact_id]


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
    for step, after in itertools.product(range(len(clean)), (False, True)):
        where = f"{path.name}, dying {'after' if after else 'before'} call {step} ({clean[step]})"
        _, email, ctx = _run(stack, path, step, after)
        contact_id = ctx.get("id") or _contact_id(stack, email)
        assert contact_id, f"{where}: no contact"
        seen = _events_of(stack, contact_id)
        missing = [t for t in path.expect if t not in seen]
        assert not missing, f"{where}: lost {missing}"
        assert _consent_mails_sent(stack, contact_id) <= 1, f"{where}: consent mail sent twice"
