"""The small HTML pages behind signed links (consent, CSAT survey, unsubscribe), shared by every
capability that mails such a link: one document shape, one problem page, and one way of answering
a link: a page for a person, JSON for a JSON client, a 4xx page when the link cannot be used.

The documents themselves (pure HTML strings) are ecrm.documents, which capabilities' domain-side
page renderers use without importing the HTTP resolver's Response.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from ecrm.documents import problem
from ecrm.errors import Conflict, InvalidToken

_MIN_TOKEN_LENGTH = 10  # shorter is a link cut off by a mail client, not a token worth verifying


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
