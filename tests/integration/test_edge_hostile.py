"""integration: hostile bodies and link tokens against every route of every API function (from the
topology), handlers in-process under moto. Whatever arrives, the answer is a 4xx with the
machine-readable error body naming the field, never a 5xx or an exception out of the handler."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecrm_infra import topology

from tests.support import Answer, Stack, moto_stack

ROUTES = topology.routes()
WITH_BODY = [(r, f) for r, f in ROUTES if r.method in ("POST", "PUT", "PATCH")]
WITHOUT_BODY = [(r, f) for r, f in ROUTES if r.method not in ("POST", "PUT", "PATCH")]
# A well-formed but unsigned token: routes that read their token from the query before the body
# (one-click unsubscribe) get as far as decoding the body.
BOGUS_TOKEN = "a" * 43 + "." + "b" * 43

HOSTILE_BODIES = {
    "nested 1000 deep (arrays)": ("[" * 1000 + "]" * 1000, "application/json", "body"),
    "nested 1000 deep (objects)": ('{"a":' * 1000 + "1" + "}" * 1000, "application/json", "body"),
    "integer of 5000 digits": ('{"email": ' + "9" * 5000 + "}", "application/json", "body"),
    "JSON not UTF-8": (b'{"email": "\xff\xfe@example.com"}', "application/json", "body"),
    "form not UTF-8": (b"email=\xff\xfe", "application/x-www-form-urlencoded", "body"),
    "multipart without boundary": ("email=a", "multipart/form-data", "Content-Type"),
    "malformed JSON": ('{"email": ', "application/json", "body"),
}
NON_ASCII_TOKENS = [
    "abcdefghijk.\u00e9",
    "\u00e9" * 20 + "." + "\u00e9" * 20,
    BOGUS_TOKEN + "\u2028",
    "abc\x00defghijk.x",
]

TOKEN_IDS = ["e-acute-mac", "all-non-ascii", "line-separator", "nul"]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with moto_stack() as s:
        yield s


# A well-formed value for each path parameter, so a request fails on its body alone: most ids are 32
# hex characters; the webhooks' carry a prefix (`ep_`, `msg_`).
HEX = "0123456789abcdef0123456789abcdef"
PATH_VALUES = {"endpoint_id": f"ep_{HEX}", "message_id": f"msg_{HEX}"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), HEX), path)


def call(stack: Stack, route: topology.Route, body: object, content_type: str, **extra: object) -> Answer:
    """As a user with the route's first role, or (a route for machine clients only) as a client."""
    machine = bool(route.scopes) and not route.roles
    return stack.call(
        route.method,
        concrete(route.machine_path if machine else route.path),
        body,
        content_type,
        roles=route.roles[0] if route.roles else None,
        client="shop" if machine else None,
        scopes=route.scopes,
        **extra,  # type: ignore[arg-type]
    )


def assert_names_field(answer: Answer, field: str) -> None:
    assert 400 <= answer.status < 500, (answer.status, answer.body)
    body = answer.json
    assert body["message"]
    assert field in [e["field"] for e in body["errors"]], body


@pytest.mark.parametrize("name", HOSTILE_BODIES)
@pytest.mark.parametrize(("route", "fn"), WITH_BODY, ids=[f"{r.method} {r.path}" for r, _ in WITH_BODY])
def test_every_route_with_a_body_answers_a_hostile_body_with_a_4xx_naming_the_field(stack, route, fn, name):
    body, content_type, field = HOSTILE_BODIES[name]
    answer = call(stack, route, body, content_type, query={"token": BOGUS_TOKEN})
    assert_names_field(answer, field)


@pytest.mark.parametrize(("route", "fn"), WITH_BODY, ids=[f"{r.method} {r.path}" for r, _ in WITH_BODY])
def test_malformed_json_names_the_body_with_the_position_in_the_message(stack, route, fn):
    answer = call(stack, route, '{"email": "a@example.com",, }', "application/json", query={"token": BOGUS_TOKEN})
    assert_names_field(answer, "body")
    assert not any(e["field"].isdigit() for e in answer.json["errors"])
    assert "position 26" in answer.json["errors"][0]["message"]


@pytest.mark.parametrize("name", HOSTILE_BODIES)
@pytest.mark.parametrize(("route", "fn"), WITHOUT_BODY, ids=[f"{r.method} {r.path}" for r, _ in WITHOUT_BODY])
def test_a_hostile_body_on_a_route_without_one_is_never_a_server_error(stack, route, fn, name):
    body, content_type, _ = HOSTILE_BODIES[name]
    answer = call(stack, route, body, content_type, query={"token": BOGUS_TOKEN})
    assert answer.status < 500, answer.body


# How each public route carries its signed-link token. The capture forms take none; the two GET
# pages behind confirm and survey links only show the button that POSTs the token (a GET never
# acts), so they verify nothing and answer the page.
FORMS = {("POST", "/contacts"), ("POST", "/cases")}
BUTTON_PAGES = {("GET", "/contacts/confirm"), ("GET", "/cases/csat")}
SIGNED_LINK: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = {
    ("POST", "/contacts/confirm"): lambda t: {"body": {"token": t}},
    ("POST", "/cases/csat"): lambda t: {"body": {"token": t, "rating": 5}},
    ("GET", "/unsubscribe"): lambda t: {"query": {"token": t}},
    ("POST", "/unsubscribe"): lambda t: {
        "query": {"token": t},
        "body": "List-Unsubscribe=One-Click",
        "content_type": "application/x-www-form-urlencoded",
    },
    ("GET", "/preferences"): lambda t: {"query": {"token": t}},
    ("POST", "/preferences"): lambda t: {"body": {"token": t}},
}
PUBLIC = [(r, f) for r, f in ROUTES if r.public]


def test_every_public_route_is_classified_for_the_token_tests():
    assert {(r.method, r.path) for r, _ in PUBLIC} == FORMS | BUTTON_PAGES | set(SIGNED_LINK)


@pytest.mark.parametrize("token", NON_ASCII_TOKENS, ids=TOKEN_IDS)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
@pytest.mark.parametrize("where", list(SIGNED_LINK), ids=[f"{m} {p}" for m, p in SIGNED_LINK])
def test_a_non_ascii_link_token_is_a_400_naming_the_token_on_every_signed_link_route(stack, where, accept, token):
    method, path = where
    request = {"content_type": "application/json", **SIGNED_LINK[where](token)}
    answer = stack.call(
        method,
        path,
        request.get("body"),
        request["content_type"],
        query=request.get("query"),
        headers={"Accept": accept},
    )
    assert answer.status == 400, answer.body
    if answer.headers.get("Content-Type", "").startswith("application/json"):
        assert answer.json["message"] == "link is not valid"
        assert answer.json["errors"] == [{"field": "token", "message": answer.json["errors"][0]["message"]}]
    else:
        assert "<html" in answer.body


@pytest.mark.parametrize("token", NON_ASCII_TOKENS, ids=TOKEN_IDS)
@pytest.mark.parametrize("where", sorted(BUTTON_PAGES), ids=[f"{m} {p}" for m, p in sorted(BUTTON_PAGES)])
def test_a_non_ascii_token_on_a_button_page_is_not_a_server_error(stack, where, token):
    answer = stack.call(*where, query={"token": token})
    assert answer.status in (200, 400), answer.body
