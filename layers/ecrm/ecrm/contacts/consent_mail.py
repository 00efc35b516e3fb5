"""The double opt-in mail: one per consent request, with a signed, expiring confirmation link."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import urlencode

from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import ContactRepository, TokenSigner
from ecrm.mail import Mail, Mailer, send_once

CONFIRM_PURPOSE = "consent-confirm"


def render(contact: Contact, link: str, ttl: timedelta) -> Mail:
    name = contact.first_name or "there"
    hours = int(ttl.total_seconds() // 3600)
    text = (
        f"Hello {name},\n\nplease confirm that you want to receive our news by opening this link:\n\n"
        f"{link}\n\nThe link works for {hours} hours. If you did not ask for this, ignore this mail "
        "and nothing will happen.\n"
    )
    body = (
        f"<p>Hello {html.escape(name)},</p><p>please confirm that you want to receive our news:</p>"
        f'<p><a href="{html.escape(link, quote=True)}">Confirm my subscription</a></p>'
        f"<p>The link works for {hours} hours. If you did not ask for this, ignore this mail.</p>"
    )
    return Mail(to=contact.email, subject="Confirm your subscription", text=text, html=body)


class ConfirmationMailer:
    def __init__(
        self,
        repo: ContactRepository,
        mailer: Mailer,
        signer: TokenSigner,
        clock: Clock,
        confirm_url: str,
        ttl: timedelta,
    ) -> None:
        self._repo = repo
        self._mailer = mailer
        self._signer = signer
        self._clock = clock
        self._confirm_url = confirm_url
        self._ttl = ttl

    def send(self, contact_id: str, request_id: str) -> bool:
        """Send the mail for `request_id` unless it was sent already or is no longer pending.

        The claim is written before SES is called and completed after. A crash between SES
        accepting the mail and the completion leaves the claim open, and the redelivered message
        sends again: a confirmation may arrive twice, but is never lost.
        """
        contact = self._repo.get(contact_id)
        if contact is None or contact.consent.status != "pending" or contact.consent.request_id != request_id:
            return False  # erased, confirmed meanwhile, or superseded by a newer request
        key = f"consent-confirm#{request_id}"

        def mail() -> Mail:
            expires = self._clock.now() + self._ttl
            token = self._signer.sign(CONFIRM_PURPOSE, {"c": contact_id, "r": request_id}, expires)
            return render(contact, f"{self._confirm_url}?{urlencode({'token': token})}", self._ttl)

        return send_once(self._repo, self._mailer, self._clock, contact_id, key, mail) == "sent"
