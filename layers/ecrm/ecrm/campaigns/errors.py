"""What a mail provider can answer, as the sender needs to tell it apart.

The distinction that matters for exactly-once is whether the provider *may* have accepted the
mail: throttling and rejection mean it did not (safe to try again later, or never), while a timeout
or a dropped connection after the request left means nobody knows.
"""

from __future__ import annotations

from ecrm.errors import DomainError


class MailNotSent(DomainError):
    """The provider refused the request: nothing was sent."""


class MailThrottled(MailNotSent):
    """Over the provider's send rate (SES `Throttling` / `TooManyRequestsException`): retry later."""


class SendingPaused(MailNotSent):
    """The account cannot send now (SES `SendingPausedException`, daily quota used up): stop the batch."""


class MailRejected(MailNotSent):
    """This message will never be accepted (SES `MessageRejected`, a malformed address): give up on it."""


class MailOutcomeUnknown(DomainError):
    """The request may or may not have been accepted (timeout, connection lost mid-call)."""
