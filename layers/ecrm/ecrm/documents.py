"""The HTML document shape of the small pages behind signed links: pure strings, no HTTP.

Renderers escape what they put in a body; no page carries script. Answering with a page (Response,
JSON or HTML, 4xx pages) is ecrm.pages, at the HTTP edge.
"""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer">{robots}<title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""
_NOINDEX = '<meta name="robots" content="noindex">'


def document(title: str, body: str, *, noindex: bool = False) -> str:
    """A whole page; `title` is fixed text, `body` HTML its caller escaped."""
    return _PAGE.format(title=title, body=body, robots=_NOINDEX if noindex else "")


def problem(message: str, *, noindex: bool = False) -> str:
    return document("This link does not work", f"<p>{html.escape(message, quote=True)}</p>", noindex=noindex)
