"""A journey's mail: the campaigns' rules for one contact, sent at most once per step visit.

The same rules as a campaign's mail, from the same code: the recipient is read with their
preferences and their address's suppression (`suppression_reason`: erased, bounced, complained,
no confirmed consent, the topic or everything unsubscribed), the template is a campaigns template
rendered with the same variables, the mail carries the same one-click unsubscribe link and
headers, and it spends a token of the account's shared send rate (campaigns' RateLimiter).

Once: the mail is claimed in the journeys' mail log under (journey, version, entry, seq, step)
before SES is called (ecrm.mail.send_once). A refusal for good and an outcome nobody can know
(a timeout after the request left) both settle the claim `failed` with their reason, so the mail
is never sent twice; a throttle releases the claim and the message comes again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ecrm.campaigns.errors import MailOutcomeUnknown, MailRejected
from ecrm.campaigns.models import Template
from ecrm.campaigns.ports import CampaignMailer, RecipientDirectory, Repository
from ecrm.campaigns.ratelimit import RateLimiter, Sleeper
from ecrm.campaigns.sending import addressed_mail, gone, suppression_reason
from ecrm.campaigns.templates import CompiledTemplate
from ecrm.campaigns.unsubscribe import LinkBase, UnsubscribeClaims, links, mint
from ecrm.clock import Clock
from ecrm.consumer import RetryLater
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import TokenSigner
from ecrm.journeys import catalogue
from ecrm.journeys.models import Progress
from ecrm.mail import Mail, MailLog, Undeliverable, send_once


def mail_key(progress: Progress, step_id: str) -> str:
    return f"{progress.journey_id}#{progress.version}#{progress.entry}#{progress.seq}#{step_id}"


def mail_tags(progress: Progress, step_id: str) -> dict[str, str]:
    return {
        catalogue.TAG_JOURNEY: progress.journey_id,
        catalogue.TAG_VERSION: str(progress.version),
        catalogue.TAG_ENTRY: str(progress.entry),
        catalogue.TAG_STEP: step_id,
        catalogue.TAG_CONTACT: progress.contact_id,
    }


@dataclass(frozen=True)
class _Tagged:
    """The platform's Mailer over the campaigns' SES mailer, with the mail's tags bound."""

    mailer: CampaignMailer
    tags: Mapping[str, str]

    def send(self, mail: Mail) -> str:
        try:
            return self.mailer.send(mail, self.tags)
        except MailRejected as exc:
            raise Undeliverable("refused by SES") from exc
        except MailOutcomeUnknown as exc:  # it may have left: never again (at most once)
            raise Undeliverable("outcome unknown: SES did not answer") from exc


class JourneyMailing:
    def __init__(
        self,
        *,
        recipients: RecipientDirectory,
        templates: Repository[Template],
        log: MailLog,
        mailer: CampaignMailer,
        limiter: RateLimiter,
        sleeper: Sleeper,
        clock: Clock,
        signer: TokenSigner,
        link_base: LinkBase,
    ) -> None:
        self._recipients = recipients
        self._templates = templates
        self._log = log
        self._mailer = mailer
        self._limiter = limiter
        self._sleeper = sleeper
        self._clock = clock
        self._signer = signer
        self._link_base = link_base
        self._compiled: dict[tuple[str, int], CompiledTemplate] = {}  # by template id and version

    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        contact_id = progress.contact_id
        recipient = self._recipients.recipients([contact_id]).get(contact_id) or gone(contact_id)
        if suppression_reason(recipient, topic) is not None or recipient.contact is None:
            return "skipped"
        contact, tier = recipient.contact, recipient.tier
        template = self._templates.get(template_id)
        if not self._token():
            raise RetryLater("the account's send rate is spent for now")
        outcome = send_once(
            self._log,
            _Tagged(self._mailer, mail_tags(progress, step_id)),
            self._clock,
            contact_id,
            mail_key(progress, step_id),
            lambda: self._render(template, contact, tier, progress, topic),
        )
        # `skipped` from the log: this step's mail was claimed before (a redelivery after a crash)
        return "sent" if outcome == "skipped" else outcome

    def _render(
        self, template: Template | None, contact: Contact, tier: str | None, progress: Progress, topic: str
    ) -> Mail:
        if template is None:
            raise Undeliverable("the template was deleted")
        claims = UnsubscribeClaims(contact.id, f"journey-{progress.journey_id}", f"entry-{progress.entry}", topic)
        mail_links = links(self._link_base, mint(self._signer, claims, self._clock.now()))
        key = (template.id, template.version)
        if key not in self._compiled:  # as the campaign sender does: a version's text never changes
            self._compiled[key] = CompiledTemplate.compile(template.subject, template.html, template.text)
        return addressed_mail(self._compiled[key], contact, tier, mail_links)

    def _token(self) -> bool:
        """One token of the shared send rate: this second's, else the next second's."""
        for attempt in range(2):
            if self._limiter.try_acquire(1).count:
                return True
            if attempt == 0:
                now = self._clock.now()
                self._sleeper.sleep(1 - (now.timestamp() % 1))
        return False
