"""The mail that warns a member before points expire. A service message about their account,
not marketing: it needs no marketing consent."""

from __future__ import annotations

import html
from datetime import datetime

from ecrm.contacts.models import Contact
from ecrm.mail import Mail


def render(contact: Contact, points: int, expires_at: datetime) -> Mail:
    name = contact.first_name or "there"
    day = expires_at.strftime("%d %B %Y")
    text = (
        f"Hello {name},\n\n{points} of your loyalty points expire on {day} (UTC). Redeem them before then "
        "to keep their value.\n"
    )
    body = (
        f"<p>Hello {html.escape(name)},</p><p><strong>{points}</strong> of your loyalty points expire on "
        f"{html.escape(day)} (UTC). Redeem them before then to keep their value.</p>"
    )
    return Mail(to=contact.email, subject=f"{points} points expire on {day}", text=text, html=body)
