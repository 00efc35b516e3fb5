"""The two small HTML pages a person sees when confirming consent (escaped, no script)."""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


def confirm_form(token: str, action: str) -> str:
    # A GET never confirms: mail scanners open links, so a person has to press the button.
    body = (
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        '<button type="submit" id="confirm">Yes, subscribe me</button></form>'
    )
    return _PAGE.format(title="Confirm your subscription", body=body)


def confirmed() -> str:
    return _PAGE.format(title="Subscription confirmed", body="<p>Thank you. You can close this page.</p>")


def problem(message: str) -> str:
    return _PAGE.format(title="This link does not work", body=f"<p>{html.escape(message)}</p>")
