"""The CSAT survey page behind the signed link in the solve mail, and its answers (escaped, no script)."""

from __future__ import annotations

import html

from ecrm.documents import document

_LABELS = {1: "1 - very poor", 2: "2 - poor", 3: "3 - okay", 4: "4 - good", 5: "5 - excellent"}


def survey_form(token: str, action: str) -> str:
    # A GET never records a rating: mail scanners open links, so a person has to press a button.
    buttons = "".join(
        f'<button type="submit" name="rating" value="{n}" id="rate-{n}">{html.escape(label)}</button> '
        for n, label in _LABELS.items()
    )
    body = (
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        '<p><label for="comment">Anything to add? (optional)</label><br>'
        '<textarea id="comment" name="comment" maxlength="2000" rows="4" cols="40"></textarea></p>'
        f"<p>{buttons}</p></form>"
    )
    return document("How did we do?", body)


def thanks() -> str:
    return document("Thank you", "<p>Your rating has been recorded. You can close this page.</p>")
