"""The two small HTML pages a person sees when confirming consent (escaped, no script)."""

from __future__ import annotations

import html

from ecrm.documents import document


def confirm_form(token: str, action: str) -> str:
    # A GET never confirms: mail scanners open links, so a person has to press the button.
    body = (
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        '<button type="submit" id="confirm">Yes, subscribe me</button></form>'
    )
    return document("Confirm your subscription", body)


def confirmed() -> str:
    return document("Subscription confirmed", "<p>Thank you. You can close this page.</p>")
