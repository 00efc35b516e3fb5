"""Outgoing mail, shared by every capability that writes to people (consent, case notices, campaigns)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from ecrm.clock import Clock
from ecrm.observability import logger, metrics


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


class Undeliverable(Exception):
    """This mail can never be sent as it is (the recipient's address cannot be a header, the mail
    library or SES refuses the message): trying again cannot help."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> str:
        """Send and return the provider's message id; Undeliverable for a permanent refusal."""
        ...


class MailLog(Protocol):
    """One claim per mail under a business key, in the owner's partition (a contact, a case)."""

    def claim_mail(self, owner_id: str, key: str, now: datetime, /) -> bool: ...

    def mark_mail_sent(self, owner_id: str, key: str, message_id: str, now: datetime, /) -> None: ...

    def mark_mail_failed(self, owner_id: str, key: str, reason: str, now: datetime, /) -> None: ...

    def release_mail(self, owner_id: str, key: str, claimed_at: datetime, /) -> None: ...


MailOutcome = Literal["sent", "failed", "skipped"]


def send_once(
    log: MailLog, mailer: Mailer, clock: Clock, owner_id: str, key: str, render: Callable[[], Mail]
) -> MailOutcome:
    """Claim, render, send, mark. Every mail ends in a visible state:
    - sent: the claim is marked sent with the provider's message id;
    - failed: a permanent refusal (Undeliverable) marks the claim failed with its reason, counted
      (metric MailFailed) and logged; the message is done, not retried into the DLQ;
    - any other error releases the claim and propagates: the redelivery claims and sends again.
    `skipped` means another delivery holds the claim or settled it already."""
    claimed_at = clock.now()
    if not log.claim_mail(owner_id, key, claimed_at):
        return "skipped"
    try:
        message_id = mailer.send(render())
    except Undeliverable as exc:
        log.mark_mail_failed(owner_id, key, str(exc) or "undeliverable", clock.now())
        metrics.add_metric(name="MailFailed", unit=MetricUnit.Count, value=1)
        # The reason is stored with the claim; the log names only its kind (SES messages quote addresses).
        logger.warning("mail failed", mail_key=key, reason_kind=type(exc.__cause__ or exc).__name__)
        return "failed"
    except BaseException:
        log.release_mail(owner_id, key, claimed_at)
        raise
    log.mark_mail_sent(owner_id, key, message_id, clock.now())
    return "sent"
