"""The small HTML pages behind signed links (consent, CSAT survey, unsubscribe), shared by every
capability that mails such a link: one document shape, one problem page, and one way of answering
a link: a page for a person, JSON for a JSON client, a 4xx page when the link cannot be used.

Renderers escape what they put in a body; no page carries script.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from ecrm.errors import Conflict, InvalidToken

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer">{robots}<title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""
_NOINDEX = '<meta name="robots" content="noindex">'
_MIN_TOKEN_LENGTH = 10  # shorter is a link cut off by a mail client, not a token worth verifying


def document(title: str, body: str, *, noindex: bool = False) -> str:
    """A whole page; `title` is fixed text, `body` HTML its caller escaped."""
    return _PAGE.format(title=title, body=body, robots=_NOINDEX if noindex else "")


def problem(message: str, *, noindex: bool = False) -> str:
    return document("This link does not work", f"<p>{html.escape(message, quote=True)}</p>", noindex=noindex)


def html_answer(status: int, page: str) -> Response[str]:
    return Response(status, content_types.TEXT_HTML, page)


def link_form(token: str, form: Callable[[str], str]) -> Response[str]:
    """GET of a signed link: the page whose button sends the POST (a GET never acts: mail scanners
    open links), or a 400 page when the link lost its token on the way."""
    if len(token) < _MIN_TOKEN_LENGTH:
        return html_answer(400, problem("The link is incomplete: its token is missing."))
    return html_answer(200, form(token))


def reply(json_wanted: bool, page: str, model: BaseModel, status: int = 200) -> Response[str]:
    if json_wanted:
        return Response(status, content_types.APPLICATION_JSON, model.model_dump_json())
    return html_answer(status, page)


def guarded(
    json_wanted: bool,
    render: Callable[[], Response[str]],
    *,
    invalid: str = "The link {reason}.",
    conflict: str | None = None,
    noindex: bool = False,
) -> Response[str]:
    """Acting on a link: a link that fails verification is a 400 page (`invalid`, with the reason)
    for people and the JSON error for JSON clients; nothing was read or written before the token
    was checked. With `conflict`, a Conflict (the link was used already) is a 409 page saying so."""
    try:
        return render()
    except InvalidToken as exc:
        if json_wanted:
            raise
        return html_answer(400, problem(invalid.format(reason=exc.reason), noindex=noindex))
    except Conflict:
        if json_wanted or conflict is None:
            raise
        return html_answer(409, problem(conflict, noindex=noindex))
