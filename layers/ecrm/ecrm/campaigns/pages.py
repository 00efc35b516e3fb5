"""The small HTML pages a person sees behind an unsubscribe link (escaped, no script, no address)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ecrm.campaigns.preferences import PreferencesView
from ecrm.documents import document


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
    return document("Unsubscribe", body, noindex=True)


def unsubscribed(topic: str, token: str, preferences: str) -> str:
    body = (
        f"<p>You will get no more <b>{_e(topic)}</b> mail.</p>"
        f'<p><a href="{_e(_with_token(preferences, token))}">Manage all topics</a></p>'
    )
    return document("You are unsubscribed", body, noindex=True)


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
    return document("Your mail preferences", body, noindex=True)


def sibling(path: str, name: str) -> str:
    """`/prod/unsubscribe` -> `/prod/preferences`: links between the pages keep the stage prefix."""
    return f"{path.rsplit('/', 1)[0]}/{name}"


def wants_json(event: Mapping[str, Any]) -> bool:
    """JSON clients (Accept JSON, or a JSON body) get JSON answers and errors; browsers and mail
    clients get pages."""
    lowered = {str(k).lower(): str(v).lower() for k, v in (event.get("headers") or {}).items()}
    json_body = bool(event.get("body")) and lowered.get("content-type", "").startswith("application/json")
    return "application/json" in lowered.get("accept", "") or json_body
