"""The sender: one batch of recipients from the send queue -> at most one mail each.

Per recipient, in this order:
1. **Suppression** (`suppression_reason`): erased, bounced, complained, no confirmed consent,
   unsubscribed from the campaign's topic or from everything -> a `skipped` record, no mail.
2. **Render** the mail (before the claim, so the claim-to-SES window holds nothing that can fail).
3. **Rate token** from the shared limiter (waiting for the next second if need be).
4. **Claim** the send record (conditional put: status `sending`, a lease, a random claim id).
5. **SES call** -> **complete** (`sent`, message id). Refused by SES (throttled, paused, rejected):
   the claim is released or settled as `failed`. Outcome unknown (timeout): settled `unknown`.

A recipient's path is serial and mostly waiting (on DynamoDB, on SES). A sender works on
`SenderConfig.lanes` recipients at once, each lane a thread that takes the batch's next recipient
and walks it through the steps above with its own rate tokens and pace, as a sender of its own
would (decision 101). Nothing in a recipient's path depends on another's, so the guarantees are
those of that many senders on one message. The deployment sets the count (`SenderSettings.lanes`).

The crash case: a claim found still `sending` after its lease belongs to a sender that died
between 4 and 5 (or between the SES call and its completion). Whether SES took that mail cannot
be known from here (SES has no idempotency key and its events are best effort), so the record is
settled `unknown` and the mail is **not** sent again: at most once. SES's "Email Sent" event, if it
arrives, upgrades the record to `sent` (feedback.py). The window is kept small: nothing but the SES
call sits between claim and completion, and no claim is made when the function's time is nearly
up. The full argument is in docs/campaigns.md.
"""

from __future__ import annotations

import functools
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from ecrm.campaigns import ab
from ecrm.campaigns.errors import MailOutcomeUnknown, MailRejected, MailThrottled, SendingPaused
from ecrm.campaigns.models import Campaign, Preferences, SendBatch, SendKey, SendRecord, Stage, Template
from ecrm.campaigns.ports import (
    CampaignMailer,
    CampaignRepository,
    Recipient,
    RecipientDirectory,
    Repository,
    RunStore,
    SendStore,
)
from ecrm.campaigns.ratelimit import Backoff, Grant, Pace, RateLimiter, Sleeper
from ecrm.campaigns.templates import CompiledTemplate, Parsed, compile_part
from ecrm.campaigns.unsubscribe import LinkBase, Links, UnsubscribeClaims, links, mint
from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.ports import TokenSigner
from ecrm.errors import NotFound
from ecrm.mail import Mail

# SES message tags (letters, digits, '_' and '-' only): every SES event about the mail carries them
# back, which is how feedback finds the send record.
TAG_CAMPAIGN = "ecrm_campaign"
TAG_RUN = "ecrm_run"
TAG_CONTACT = "ecrm_contact"
TAG_VARIANT = "ecrm_variant"

Outcome = Literal["sent", "skipped", "unknown", "failed", "done", "retry"]


def suppression_reason(recipient: Recipient, topic: str) -> str | None:
    """Why this recipient must not get mail on `topic`, or None. Checked before every send."""
    contact = recipient.contact
    if contact is None:
        return "erased"
    if recipient.suppression is not None:
        return recipient.suppression.reason
    if contact.consent.status != "confirmed":
        return "no_consent"
    if not recipient.preferences.allows(topic):
        return "unsubscribed"
    return None


def personalization(contact: Contact, tier: str | None, mail_links: Links) -> dict[str, str | None]:
    """The template variables (templates.VARIABLES) for one contact."""
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "company": contact.company,
        "country": contact.custom.get("country"),
        "tier": tier,
        "unsubscribe_url": mail_links.unsubscribe_url,
        "preferences_url": mail_links.preferences_url,
    }


def addressed_mail(
    template: CompiledTemplate, contact: Contact, tier: str | None, mail_links: Links, subject: Parsed | None = None
) -> Mail:
    """One contact's mail: the template rendered with their variables and links, and the
    one-click unsubscribe headers (the campaigns' sender and the journeys' mail step)."""
    rendered = template.render(personalization(contact, tier, mail_links), subject)
    return Mail(
        to=contact.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=mail_links.headers,
    )


def message_tags(key: SendKey, variant: int | None) -> dict[str, str]:
    tags = {TAG_CAMPAIGN: key.campaign_id, TAG_RUN: key.run_id, TAG_CONTACT: key.contact_id}
    if variant is not None:
        tags[TAG_VARIANT] = str(variant)
    return tags


def key_from_tags(tags: Mapping[str, str]) -> SendKey | None:
    values = [tags.get(t) for t in (TAG_CAMPAIGN, TAG_RUN, TAG_CONTACT)]
    if not all(values):
        return None
    campaign_id, run_id, contact_id = (str(v) for v in values)
    return SendKey(campaign_id=campaign_id, run_id=run_id, contact_id=contact_id)


@dataclass(frozen=True)
class SenderConfig:
    # Longer than any live sender holds a claim (one SES call), shorter than the queue's
    # visibility timeout: a redelivery that finds an older open claim knows its sender is gone.
    lease: timedelta = timedelta(minutes=5)
    # No claim is made with less time left than this: SES client timeouts are set well below it,
    # so a Lambda timeout cannot strike between claim and completion.
    margin: timedelta = timedelta(seconds=15)
    backoff: Backoff = field(default_factory=Backoff)
    lanes: int = 1  # recipients worked on at once; the deployed sender's come from its settings

    def __post_init__(self) -> None:
        if self.lanes < 1:
            raise ValueError("a sender needs at least one lane")


Fork = Callable[[Sequence[Callable[[], None]]], None]


def in_threads(bodies: Sequence[Callable[[], None]]) -> None:
    """Runs each body in a thread of its own and returns when all are done; the first exception
    any of them raised is raised here (the others ran to their end first)."""
    failures: list[BaseException] = []

    def run(body: Callable[[], None]) -> None:
        try:
            body()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(body,), name=f"lane-{i}") for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@dataclass
class _Lane:
    """One lane's rate tokens and pace: a lane asks the limiter as a sender of its own does."""

    grant: Grant = field(default_factory=lambda: Grant(0, 0))
    pace: Pace = field(default_factory=Pace)


@dataclass
class BatchResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    dropped: str | None = None  # the whole batch was not for sending (campaign paused, cancelled)

    def ids(self, outcome: Outcome) -> list[str]:
        return [cid for cid, o in self.outcomes.items() if o == outcome]

    @property
    def complete(self) -> bool:
        """False when some recipient must be tried again: report the message as a batch item
        failure, and SQS redelivers it (who got mail already is skipped then)."""
        return not self.ids("retry")


class StageFinisher(Protocol):
    def stage_finished(self, campaign_id: str, run_id: str, stage: Stage) -> None: ...


class _StopBatch(Exception):
    """The account cannot send now: leave the rest of the batch to a later delivery."""


@dataclass(frozen=True)
class _Job:
    campaign: Campaign
    template: CompiledTemplate
    subjects: tuple[Parsed, ...]
    batch: SendBatch
    deadline: datetime


class Sender:
    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        templates: Repository[Template],
        recipients: RecipientDirectory,
        records: SendStore,
        runs: RunStore,
        mailer: CampaignMailer,
        limiter: RateLimiter,
        sleeper: Sleeper,
        clock: Clock,
        signer: TokenSigner,
        link_base: LinkBase,
        finisher: StageFinisher,
        config: SenderConfig = SenderConfig(),
        rng: random.Random | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        fork: Fork = in_threads,
    ) -> None:
        self._campaigns = campaigns
        self._templates = templates
        self._recipients = recipients
        self._records = records
        self._runs = runs
        self._mailer = mailer
        self._limiter = limiter
        self._sleeper = sleeper
        self._clock = clock
        self._signer = signer
        self._link_base = link_base
        self._finisher = finisher
        self._config = config
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._new_id = new_id
        self._fork = fork
        self._lanes = [_Lane() for _ in range(config.lanes)]  # kept warm across a container's batches
        self._compiled: dict[tuple[str, int, int], tuple[CompiledTemplate, tuple[Parsed, ...]]] = {}

    # -- the batch -----------------------------------------------------------------------------
    def send(self, batch: SendBatch, deadline: datetime) -> BatchResult:
        campaign = self._live_campaign(batch)
        if campaign is None:
            return BatchResult(dropped="the campaign is not sending this run")
        template, subjects = self._compile(campaign)
        job = _Job(campaign, template, subjects, batch, deadline)
        result = BatchResult()
        todo = self._pending(batch, result)
        found = self._recipients.recipients(todo) if todo else {}
        self._work(job, todo, found, result)
        for contact_id in todo:
            result.outcomes.setdefault(contact_id, "retry")
        if result.complete and campaign.schedule.kind != "triggered":
            self._batch_done(batch)
        return result

    def _work(self, job: _Job, todo: list[str], found: Mapping[str, Recipient], result: BatchResult) -> None:
        """Each lane takes the next recipient until none is left, or until the account cannot send
        now (`_StopBatch`) or a lane failed: then the lanes take no more, and what is left is retried."""
        pending: Iterator[str] = iter(todo)
        taking = threading.Lock()  # held for a next() and a dict write: never across a call
        stop = threading.Event()

        def lane(state: _Lane) -> None:
            while not stop.is_set():
                with taking:
                    contact_id = next(pending, None)
                if contact_id is None:
                    return
                try:
                    outcome = self._one(job, found.get(contact_id) or gone(contact_id), state)
                except _StopBatch:
                    stop.set()
                    return
                except BaseException:
                    stop.set()
                    raise
                with taking:
                    result.outcomes[contact_id] = outcome

        lanes = self._lanes[: max(1, min(len(self._lanes), len(todo)))]
        if len(lanes) == 1:
            lane(lanes[0])
        else:
            self._fork([functools.partial(lane, state) for state in lanes])

    def _live_campaign(self, batch: SendBatch) -> Campaign | None:
        campaign = self._campaigns.get(batch.campaign_id)
        if campaign is None or campaign.status != "sending":
            return None  # paused (resume re-plans the run) or cancelled
        if campaign.schedule.kind != "triggered" and campaign.current_run != batch.run_id:
            return None  # a batch of a run that is over
        return campaign

    def _compile(self, campaign: Campaign) -> tuple[CompiledTemplate, tuple[Parsed, ...]]:
        template = self._templates.get(campaign.template_id)
        if template is None:
            raise NotFound("template")
        cache_key = (template.id, template.version, campaign.version)
        if cache_key not in self._compiled:
            compiled = CompiledTemplate.compile(template.subject, template.html, template.text)
            subjects = tuple(compile_part(s, "subject") for s in (campaign.ab.subjects if campaign.ab else ()))
            self._compiled[cache_key] = (compiled, subjects)
        return self._compiled[cache_key]

    def _pending(self, batch: SendBatch, result: BatchResult) -> list[str]:
        """Recipients still to do: no record yet, an open claim (which `_one` resolves), or one
        skipped before (suppression is checked again: consent may have been given since)."""
        keys = {cid: self._key(batch, cid) for cid in dict.fromkeys(batch.contact_ids)}
        existing = self._records.existing(list(keys.values()))
        todo = []
        for contact_id, key in keys.items():
            record = existing.get(key)
            if record is not None and record.status not in ("sending", "skipped"):
                result.outcomes[contact_id] = "done"
            else:
                todo.append(contact_id)
        return todo

    def _batch_done(self, batch: SendBatch) -> None:
        progress = self._runs.complete_batch(batch.campaign_id, batch.run_id, batch.stage, batch.epoch, batch.batch)
        if progress.finished:
            self._finisher.stage_finished(batch.campaign_id, batch.run_id, batch.stage)

    @staticmethod
    def _key(batch: SendBatch, contact_id: str) -> SendKey:
        return SendKey(campaign_id=batch.campaign_id, run_id=batch.run_id, contact_id=contact_id)

    # -- one recipient -------------------------------------------------------------------------
    def _one(self, job: _Job, recipient: Recipient, lane: _Lane) -> Outcome:
        key = self._key(job.batch, recipient.contact_id)
        reason = suppression_reason(recipient, job.campaign.topic)
        if reason is not None or recipient.contact is None:
            skipped = SendRecord(key=key, status="skipped", reason=reason, settled_at=self._clock.now())
            return "skipped" if self._records.settle(skipped, count_targeted=_addressed_once(job)) else "done"
        variant = ab.variant_for(job.campaign, job.batch.stage, key.contact_id)
        mail = self._compose(job, recipient.contact, recipient.tier, key, variant)
        if not self._token(lane, job.deadline):
            return "retry"
        now = self._clock.now()
        claim = SendRecord(
            key=key,
            status="sending",
            claim_id=self._new_id(),
            claimed_at=now,
            lease_until=now + self._config.lease,
            variant=variant,
        )
        found = self._records.claim(claim, count_targeted=_addressed_once(job))
        if found is not None:
            return self._already_claimed(found)
        return self._deliver(claim, mail, message_tags(key, variant), job.deadline, lane)

    def _compose(self, job: _Job, contact: Contact, tier: str | None, key: SendKey, variant: int | None) -> Mail:
        claims = UnsubscribeClaims(contact.id, key.campaign_id, key.run_id, job.campaign.topic)
        mail_links = links(self._link_base, mint(self._signer, claims, self._clock.now()))
        subject = job.subjects[variant] if variant is not None else None
        return addressed_mail(job.template, contact, tier, mail_links, subject)

    def _token(self, lane: _Lane, deadline: datetime) -> bool:
        """Spend one send token of the current second, taking more from the limiter if needed (no
        more than this lane can spend before the second ends, at its own pace)."""
        now = self._clock.now()
        lane.pace.asking(now)
        if not lane.grant.valid(now):
            lane.grant = self._limiter.acquire(
                self._limiter.rate, self._sleeper, deadline - self._config.margin, lane.pace.seconds
            )
        now = self._clock.now()
        if lane.grant.count == 0 or now + self._config.margin >= deadline:
            return False
        lane.grant = lane.grant.spend()
        lane.pace.spent(now)
        return True

    def _already_claimed(self, found: SendRecord) -> Outcome:
        if found.status != "sending":
            return "done"
        if found.lease_until is not None and found.lease_until > self._clock.now():
            return "retry"  # a concurrent delivery is sending it right now: look again later
        # The claimer died mid-send: SES may or may not have the mail. Never send it twice.
        in_doubt = found.model_copy(
            update={"status": "unknown", "reason": "claim expired before completion", "settled_at": self._clock.now()}
        )
        return "unknown" if self._records.settle(in_doubt) else "done"

    def _deliver(self, claim: SendRecord, mail: Mail, tags: dict[str, str], deadline: datetime, lane: _Lane) -> Outcome:
        for attempt in range(self._config.backoff.attempts + 1):
            outcome = self._attempt(claim, mail, tags)
            if outcome is not None:
                return outcome
            if not self._wait_after_throttle(attempt, deadline, lane):
                break
        self._records.release(claim.key, claim.claim_id or "")
        return "retry"  # still throttled: never dropped, the queue brings it back

    def _attempt(self, claim: SendRecord, mail: Mail, tags: dict[str, str]) -> Outcome | None:
        """One SES call; None when throttled."""
        try:
            message_id = self._mailer.send(mail, tags)
        except MailThrottled:
            return None
        except SendingPaused as exc:
            self._records.release(claim.key, claim.claim_id or "")
            raise _StopBatch from exc
        except MailRejected as exc:
            return self._settle(claim, "failed", str(exc) or "rejected by SES")
        except MailOutcomeUnknown as exc:
            return self._settle(claim, "unknown", str(exc) or "SES outcome unknown")
        self._records.complete(claim, message_id, self._clock.now())
        return "sent"

    def _settle(self, claim: SendRecord, status: Literal["failed", "unknown"], reason: str) -> Outcome:
        self._records.settle(
            claim.model_copy(update={"status": status, "reason": reason, "settled_at": self._clock.now()})
        )
        return status

    def _wait_after_throttle(self, attempt: int, deadline: datetime, lane: _Lane) -> bool:
        if attempt >= self._config.backoff.attempts:
            return False
        delay = timedelta(seconds=self._config.backoff.delay(attempt, self._rng))
        if self._clock.now() + delay + self._config.margin >= deadline:
            return False
        lane.pace.paused()  # the backoff is not a mail's work
        self._sleeper.sleep(delay.total_seconds())
        return self._token(lane, deadline)  # a retry is another SES call: it needs a token too


def _addressed_once(job: _Job) -> bool:
    """Triggered mail has no planner to count who it targets: its send records do, once each."""
    return job.campaign.schedule.kind == "triggered"


def gone(contact_id: str) -> Recipient:
    """A recipient whose contact is not there (erased, or never existed): skipped as `erased`."""
    return Recipient(
        contact_id=contact_id, contact=None, preferences=Preferences(contact_id=contact_id), suppression=None
    )
