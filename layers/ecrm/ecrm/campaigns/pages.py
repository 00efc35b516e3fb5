"""The small HTML pages a person sees behind an unsubscribe link (escaped, no script, no address)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from ecrm.campaigns.preferences import PreferencesView
from ecrm.errors import InvalidToken

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _with_token(path: str, token: str) -> str:
    return f"{path}?{urlencode({'token': token})}"


def confirm_unsubscribe(token: str, topic: str, action: str, preferences: str) -> str:
    """GET of the unsubscribe link: asks, changes nothing (mail scanners open links). The button
    sends the same POST a mail client's one-click unsubscribe sends (RFC 8058)."""
    body = (
        f"<p>Stop receiving <b>{_e(topic)}</b> mail?</p>"
        f'<form method="post" action="{_e(_with_token(action, token))}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" id="unsubscribe">Unsubscribe</button></form>'
        f'<p><a href="{_e(_with_token(preferences, token))}">Choose topics instead</a></p>'
    )
    return _PAGE.format(title="Unsubscribe", body=body)


def unsubscribed(topic: str, token: str, preferences: str) -> str:
    body = (
        f"<p>You will get no more <b>{_e(topic)}</b> mail.</p>"
        f'<p><a href="{_e(_with_token(preferences, token))}">Manage all topics</a></p>'
    )
    return _PAGE.format(title="You are unsubscribed", body=body)


def preferences(view: PreferencesView, token: str, action: str, saved: bool = False) -> str:
    boxes = "".join(
        f'<p><label><input type="checkbox" name="subscribed" value="{_e(t.topic)}"'
        f"{' checked' if t.subscribed and not view.unsubscribed_all else ''}> {_e(t.topic)}</label></p>"
        for t in view.topics
    )
    body = (
        ("<p id='saved'>Your choices are saved.</p>" if saved else "") + f'<form method="post" action="{_e(action)}">'
        f'<input type="hidden" name="token" value="{_e(token)}">{boxes}'
        '<p><label><input type="checkbox" name="unsubscribe_all" value="true"'
        f"{' checked' if view.unsubscribed_all else ''}> Unsubscribe from everything</label></p>"
        '<button type="submit" id="save">Save</button></form>'
    )
    return _PAGE.format(title="Your mail preferences", body=body)


def problem(message: str) -> str:
    return _PAGE.format(title="This link does not work", body=f"<p>{_e(message)}</p>")


def sibling(path: str, name: str) -> str:
    """`/prod/unsubscribe` -> `/prod/preferences`: links between the pages keep the stage prefix."""
    return f"{path.rsplit('/', 1)[0]}/{name}"


def wants_json(event: Mapping[str, Any]) -> bool:
    """JSON clients (Accept JSON, or a JSON body) get JSON answers and errors; browsers and mail
    clients get pages."""
    lowered = {str(k).lower(): str(v).lower() for k, v in (event.get("headers") or {}).items()}
    json_body = bool(event.get("body")) and lowered.get("content-type", "").startswith("application/json")
    return "application/json" in lowered.get("accept", "") or json_body


def reply(json_wanted: bool, page: str, model: BaseModel, status: int = 200) -> Response[str]:
    if json_wanted:
        return Response(status, content_types.APPLICATION_JSON, model.model_dump_json())
    return Response(status, content_types.TEXT_HTML, page)


def guarded(json_wanted: bool, render: Callable[[], Response[str]]) -> Response[str]:
    """A link that fails verification: a 400 page for people, the JSON error for JSON clients.
    Nothing was read or written before the token was checked."""
    try:
        return render()
    except InvalidToken as exc:
        if json_wanted:
            raise
        return Response(400, content_types.TEXT_HTML, problem(f"The link {exc.reason}."))
