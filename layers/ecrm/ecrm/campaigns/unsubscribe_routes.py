"""The public unsubscribe routes' work: pages for people and mail clients, JSON for JSON clients.

A token is verified before anything is read or written; a tampered, expired or foreign one is a 400
(page or JSON error) and changes nothing. GET never changes anything (mail scanners open links).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from ecrm import pages as links
from ecrm.api import Body, addressed_path, read_body
from ecrm.campaigns import pages
from ecrm.campaigns.models import PreferencesUpdate, UnsubscribeRequest
from ecrm.campaigns.preferences import PreferenceCenter, PreferencesView
from ecrm.campaigns.unsubscribe import ONE_CLICK
from ecrm.errors import InvalidInput
from ecrm.observability import metrics
from ecrm.webforms import LINK_TOKEN, page_answer, rejections, request_body

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_OPENAPI: dict[str, Any] = {
    **LINK_TOKEN,
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": [ONE_CLICK_FIELD],
                    "properties": {ONE_CLICK_FIELD: {"type": "string", "enum": ["One-Click"]}},
                }
            }
        },
    },
}
PREFERENCES_OPENAPI: dict[str, Any] = request_body(PreferencesUpdate)
PAGE_OPENAPI: dict[str, Any] = LINK_TOKEN
PAGE_RESPONSES: dict[int, Any] = {
    200: page_answer("an HTML page (JSON with Accept: application/json)", PreferencesView)
}
# A body may be too large, of a type not read, or unreadable (POST); every link may lose its token.
RESPONSES: dict[int, Any] = {**PAGE_RESPONSES, **rejections(400, 413, 415, 422, pages=True)}
GET_RESPONSES: dict[int, Any] = {**PAGE_RESPONSES, **rejections(400, 422, pages=True)}
CONFIRM_RESPONSES: dict[int, Any] = {200: page_answer("the page asking to confirm"), **rejections(400, 422, pages=True)}
PUBLIC = ["public"]


def register(app: APIGatewayRestResolver, service: Callable[[], PreferenceCenter]) -> None:
    """Add the four public routes to `app`; `service()` is the handler's cached composition root."""

    def token() -> str:
        return token_of(app.current_event.get_query_string_value("token"))

    def path() -> str:
        return addressed_path(app.current_event)

    def json_wanted() -> bool:
        return pages.wants_json(app.current_event.raw_event)

    @app.get(
        "/unsubscribe",
        summary="Page behind the unsubscribe link: asks, changes nothing",
        tags=PUBLIC,
        openapi_extensions=PAGE_OPENAPI,
        responses=CONFIRM_RESPONSES,
    )
    def confirm_page() -> Response[str]:
        return confirm_answer(service(), token(), path())

    @app.post(
        "/unsubscribe",
        summary="RFC 8058 one-click unsubscribe from the token's topic",
        tags=PUBLIC,
        openapi_extensions=ONE_CLICK_OPENAPI,
        responses=RESPONSES,
    )
    def one_click() -> Response[str]:
        body = read_body(app.current_event.raw_event)
        answer, changed = one_click_answer(service(), token(), body, path(), json_wanted())
        metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=int(changed))
        return answer

    @app.get(
        "/preferences",
        summary="Per-topic preferences page (signed link)",
        tags=PUBLIC,
        openapi_extensions=PAGE_OPENAPI,
        responses=GET_RESPONSES,
    )
    def preferences_page() -> Response[str]:
        return preferences_answer(service(), token(), path(), json_wanted())

    @app.post(
        "/preferences",
        summary="Save per-topic preferences (signed link)",
        tags=PUBLIC,
        openapi_extensions=PREFERENCES_OPENAPI,
        responses=RESPONSES,
    )
    def save_preferences() -> Response[str]:
        return save_answer(service(), read_body(app.current_event.raw_event), path(), json_wanted())


def token_of(query_token: str | None) -> str:
    """The `token` query parameter, or a 422 naming it."""
    return UnsubscribeRequest.model_validate({"token": query_token}).token


def confirm_answer(center: PreferenceCenter, token: str, path: str) -> Response[str]:
    def render() -> Response[str]:
        page = pages.confirm_unsubscribe(token, center.topic(token), path, pages.sibling(path, "preferences"))
        return links.html_answer(200, page)

    return links.guarded(False, render, noindex=True)


def one_click_answer(
    center: PreferenceCenter, token: str, body: Body, path: str, json_wanted: bool
) -> tuple[Response[str], bool]:
    """RFC 8058: the body must be `List-Unsubscribe=One-Click`. Returns the answer and whether
    anything changed (a repeat, or an erased contact, changes nothing and answers the same)."""
    if f"{ONE_CLICK_FIELD}={body.fields.get(ONE_CLICK_FIELD)}" != ONE_CLICK:
        raise InvalidInput(ONE_CLICK_FIELD, f"the body must be {ONE_CLICK} (RFC 8058)")
    changed: list[bool] = []

    def unsubscribe() -> Response[str]:
        changed.append(center.one_click(token))
        page = pages.unsubscribed(center.topic(token), token, pages.sibling(path, "preferences"))
        return links.reply(json_wanted, page, center.page(token))

    return links.guarded(json_wanted, unsubscribe, noindex=True), any(changed)


def preferences_answer(center: PreferenceCenter, token: str, path: str, json_wanted: bool) -> Response[str]:
    def render() -> Response[str]:
        view = center.page(token)
        return links.reply(json_wanted, pages.preferences(view, token, path), view)

    return links.guarded(json_wanted, render, noindex=True)


def save_answer(center: PreferenceCenter, body: Body, path: str, json_wanted: bool) -> Response[str]:
    form = PreferencesUpdate.model_validate(body.fields)

    def render() -> Response[str]:
        view = center.update(form)
        return links.reply(json_wanted, pages.preferences(view, form.token, path, saved=True), view)

    return links.guarded(json_wanted, render, noindex=True)
