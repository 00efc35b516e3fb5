"""integration: the role matrix of every protected route, generated from the topology.

Each route is called with no claims, with forged or garbled claims, and signed in with each role;
once with a valid request (the route's sample event, events/apigw) and once with junk (ids,
query and body that fail validation). Whatever was sent: no claims naming a user is 401, a role
the route does not name is 403 naming the roles it does, and a role it names is never 401 or 403.
One moto stack serves the whole matrix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ecrm import access
from ecrm.names import Role, Scope
from ecrm_infra import topology

from tests.support import Answer, Stack, moto_stack

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "apigw"
PROTECTED = [route for route, _ in topology.routes() if route.roles]  # staff: ID tokens at the route's path
MACHINE = [route for route, _ in topology.routes() if route.scopes]  # clients: at /integrations + its path
NOT_SIGNED_IN: dict[str, Any] = {
    "no token": None,
    "claims without a user": {"cognito:groups": "admin", "email": "admin@example.com"},  # not Cognito's
    "empty claims": {},
    "garbled claims": "sub=u1;cognito:groups=admin",
}
JUNK_BODY = '{"expected_version": "soon", "junk": [1, {"deeper": '  # cut short: not even JSON
# GET routes without path or query parameters: nothing of the junk is theirs to judge.
READS_WITHOUT_INPUT = {
    ("GET", "/cases/policies"),
    ("GET", "/cases/staff"),
    ("GET", "/loyalty/programme"),
    ("GET", "/journeys"),
    ("GET", "/webhooks"),
    ("GET", "/webhooks/types"),
}
JUNK_QUERY = {"limit": "lots", "cursor": "x" * 3000, "queue": "nope", "since": "yesterday", "contact_id": "me"}


def _sample(method: str, resource: str) -> dict[str, Any]:
    for path in sorted(SAMPLES.glob("*.json")):
        event: dict[str, Any] = json.loads(path.read_text())
        if (event["httpMethod"], event["resource"]) == (method, resource) and "invalid" not in path.stem:
            return event
    raise AssertionError(f"no sample event for {method} {resource} in {SAMPLES}")


def _machine_sample(route: topology.Route) -> dict[str, Any]:
    """The route's machine sample, or its staff sample moved to the machine path."""
    try:
        return _sample(route.method, route.machine_path)
    except AssertionError:
        sample = _sample(route.method, route.path)
        return {**sample, "path": access.MACHINE_PREFIX + sample["path"]}


def _header(event: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), None)


@pytest.fixture(scope="module")
def shared() -> Iterator[Stack]:
    with moto_stack() as stack:
        yield stack


def _requests(route: topology.Route, machine: bool = False) -> dict[str, dict[str, Any]]:
    sample = _machine_sample(route) if machine else _sample(route.method, route.path)
    junk_path = re.sub(r"\{\w+\}", "not-an-id", route.machine_path if machine else route.path)
    return {
        "valid": {
            "path": sample["path"],
            "body": sample.get("body"),
            "query": sample.get("queryStringParameters"),
            "content_type": _header(sample, "content-type") or "application/json",
            "headers": {"Idempotency-Key": key} if (key := _header(sample, "idempotency-key")) else {},
        },
        "junk": {
            "path": junk_path,
            "body": JUNK_BODY,
            "query": JUNK_QUERY,
            "content_type": "application/json",
            "headers": {"Idempotency-Key": "!"},
        },
    }


def _call(stack: Stack, route: topology.Route, request: dict[str, Any], **who: Any) -> Answer:
    return stack.call(
        route.method,
        request["path"],
        request["body"],
        content_type=request["content_type"],
        query=request["query"],
        headers=request["headers"],
        **who,
    )


def test_the_matrix_covers_every_protected_route_of_every_api():
    assert len(PROTECTED) == 79
    assert {role for route in PROTECTED for role in route.roles} == set(Role.ALL)


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_only_the_roles_a_route_names_get_past_the_edge(shared: Stack, route: topology.Route):
    for kind, request in _requests(route).items():
        for who, claims in NOT_SIGNED_IN.items():
            answer = _call(shared, route, request, claims=claims)
            assert (answer.status, answer.json) == (401, {"message": "Unauthorized"}), (kind, who, answer.body)
        for role in Role.ALL:
            answer = _call(shared, route, request, roles=role, user=f"{role}-1")
            if role in route.roles:
                assert answer.status not in (401, 403), (kind, role, answer.status, answer.body)
                assert answer.status < 500, (kind, role, answer.status, answer.body)
                if kind == "junk" and (route.method, route.path) not in READS_WITHOUT_INPUT:
                    # judged, and turned away, by validation
                    assert answer.status in (400, 404, 413, 415, 422), (role, answer.status, answer.body)
            else:
                expected = {"message": "your role may not do this", "allowed_roles": list(route.roles)}
                assert (answer.status, answer.json) == (403, expected), (kind, role, answer.body)


def test_the_machine_matrix_covers_every_scope():
    assert len(MACHINE) == 13
    assert {scope for route in MACHINE for scope in route.scopes} == set(Scope.ALL)


@pytest.mark.parametrize("route", MACHINE, ids=lambda r: f"{r.method} {access.MACHINE_PREFIX}{r.path}")
def test_only_clients_with_a_scope_the_route_names_get_past_the_edge(shared: Stack, route: topology.Route):
    for kind, request in _requests(route, machine=True).items():
        for who, claims in NOT_SIGNED_IN.items():
            answer = _call(shared, route, request, claims=claims)
            assert (answer.status, answer.json) == (401, {"message": "Unauthorized"}), (kind, who, answer.body)
        for role in Role.ALL:  # a staff ID token is not what the machine path takes
            answer = _call(shared, route, request, roles=role, user=f"{role}-1")
            assert answer.status == 401, (kind, role, answer.body)
        for scope in Scope.ALL:
            answer = _call(shared, route, request, client="shop", scopes=(scope,))
            if scope in route.scopes:
                assert answer.status not in (401, 403), (kind, scope, answer.status, answer.body)
                assert answer.status < 500, (kind, scope, answer.status, answer.body)
                if kind == "junk":
                    assert answer.status in (400, 404, 413, 415, 422), (scope, answer.status, answer.body)
            else:
                expected = {"message": "your client's scopes may not do this", "allowed_scopes": list(route.scopes)}
                assert (answer.status, answer.json) == (403, expected), (kind, scope, answer.body)


def test_a_client_token_is_refused_at_a_staff_path(shared: Stack):
    route = next(r for r in MACHINE if (r.method, r.path) == ("GET", "/contacts/{contact_id}"))
    answer = _call(shared, route, _requests(route)["valid"], client="shop", scopes=Scope.ALL)
    assert (answer.status, answer.json) == (401, {"message": "Unauthorized"})


def test_a_role_not_named_is_refused_even_beside_one_that_is(shared: Stack):
    route = next(r for r in PROTECTED if (r.method, r.path) == ("POST", "/cases/agent"))
    junk = _requests(route)["junk"]
    assert _call(shared, route, junk, roles="marketer,agent").status == 400  # agent may: the junk body is judged
    assert _call(shared, route, junk, roles="marketer nobody").status == 403
