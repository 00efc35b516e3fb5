"""From a bus event to signed POSTs: the fan-out makes one delivery per matching endpoint (the same
event again makes none), and the deliverer makes each attempt once, retrying with exponential
backoff and jitter (or as the receiver's Retry-After says) for at least `retry_for`.

Attempt protocol: a message `attempt=k` asks for attempt k+1 of a delivery that has k done. The
deliverer claims it (attempts k -> k+1, conditional), POSTs, settles the outcome in the log and
sets the timer for the next attempt. A duplicate message finds the claim taken; a crash after the
claim leaves the message to come again, and a claim older than `claim_timeout` is taken over; a
crash after settling leaves `next_attempt_at` stored, and the message coming again sets the timer.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from ecrm.clock import Clock
from ecrm.errors import Conflict, InvalidInput
from ecrm.mail import Mail, Mailer, MailLog, send_once
from ecrm.names import DetailType, Source
from ecrm.timers import Timer, Timers, timer_name
from ecrm.webhooks import signatures
from ecrm.webhooks.catalogue import BY_EVENT, WebhookType
from ecrm.webhooks.destinations import destination
from ecrm.webhooks.models import AttemptMessage, AttemptRecord, Delivery, StoredEndpoint
from ecrm.webhooks.ports import (
    AttemptQueue,
    DeliveryLog,
    EndpointRepository,
    HostDirectory,
    PostResult,
    RateStore,
    WebhookSender,
)

TIMEOUT_SECONDS = 5.0  # a slow receiver holds a worker this long at most
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=4)
KEEP_DELIVERIES = timedelta(days=30)
CLAIM_TIMEOUT = timedelta(seconds=60)  # longer than the delivery function may run
UNREACHABLE_PAUSE = timedelta(seconds=30)  # after a timeout, this process tries the endpoint again then
EXCERPT = 200
USER_AGENT = "eCRM-Webhooks/1"


def _ms(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp() * 1000)


def message_id(endpoint_id: str, source: str, detail_type: str, detail: Mapping[str, Any], at: datetime) -> str:
    """`msg_` + the event's time (ms, 12 hex digits: ids sort by time) + a digest of the endpoint
    and the event: the same event for the same endpoint is always the same message."""
    event = json.dumps([endpoint_id, source, detail_type, detail], sort_keys=True, default=str)
    return f"msg_{_ms(at):012x}{hashlib.sha256(event.encode()).hexdigest()[:20]}"


def message_range(since: datetime, until: datetime) -> tuple[str, str]:
    """The first and last message ids of events in [since, until)."""
    return f"msg_{_ms(since):012x}{'0' * 20}", f"msg_{_ms(until) - 1:012x}{'f' * 20}"


def payload(kind: WebhookType, detail: Mapping[str, Any], at: datetime) -> str:
    """Standard Webhooks' payload: `type`, `timestamp` (when it happened), `data` (the type's fields)."""
    stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": kind.name, "timestamp": stamp, "data": kind.data(detail)}, separators=(",", ":"))


def matches(filters: Mapping[str, list[str]], data: Mapping[str, Any]) -> bool:
    """Each filtered field holds one of its values (a list field: any of them)."""
    for name, wanted in filters.items():
        value = data.get(name)
        held = [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]
        if not set(held) & set(wanted):
            return False
    return True


def backoff(attempts: int, pick: Callable[[float, float], float] = random.uniform) -> timedelta:
    """The wait after `attempts` failed ones: 30 s doubling to 4 h, each within ±25 % (jitter)."""
    base: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return base * pick(0.75, 1.25)


def wait_after(result: PostResult, attempts: int, pick: Callable[[float, float], float] = random.uniform) -> timedelta:
    """A 429 or 503 with Retry-After comes back when it says (a day at most); else the backoff."""
    if result.status in (429, 503) and result.retry_after is not None:
        return min(timedelta(seconds=max(result.retry_after, 1.0)), timedelta(hours=24))
    return backoff(attempts, pick)


def attempt_timer(message: AttemptMessage, at: datetime) -> Timer:
    return Timer(timer_name("wh", message.message_id, str(message.attempt)), at, message.model_dump())


@dataclass(frozen=True)
class FanOut:
    """A bus event -> one delivery for each enabled endpoint whose types and filters take it."""

    endpoints: EndpointRepository
    deliveries: DeliveryLog
    attempts: AttemptQueue
    clock: Clock

    def on_event(self, source: str, detail_type: str, detail: Mapping[str, Any]) -> str:
        kind = BY_EVENT.get((source, detail_type))
        if kind is None:
            raise InvalidInput("detail-type", "no webhook type carries this event")
        try:
            at = datetime.fromisoformat(str(detail["occurred_at"]))
        except (KeyError, ValueError):
            raise InvalidInput("detail.occurred_at", "missing or not a time") from None
        data = kind.data(detail)
        body = payload(kind, detail, at)
        now = self.clock.now()
        queued: list[AttemptMessage] = []
        for endpoint in self.endpoints.all():
            if not (endpoint.enabled and kind.name in endpoint.event_types and matches(endpoint.filters, data)):
                continue
            msg_id = message_id(endpoint.id, source, detail_type, detail, at)
            delivery = Delivery(
                message_id=msg_id,
                endpoint_id=endpoint.id,
                type=kind.name,
                status="pending",
                attempts=0,
                created_at=now,
                retry_from=now,
                payload=body,
            )
            if not self.deliveries.add(delivery, kind.contact_of(detail), now + KEEP_DELIVERIES):
                known = self.deliveries.get(endpoint.id, msg_id)  # the same event again
                if known is None or known.status != "pending" or known.attempts or known.next_attempt_at:
                    continue  # under way or settled: the first message is (or was) handled
            queued.append(AttemptMessage(endpoint_id=endpoint.id, message_id=msg_id, attempt=0))
        if (source, detail_type) == ERASED and (erased := kind.contact_of(detail)):
            # Before any attempt: receivers' answers naming the contact go, the erasure's own included.
            self.deliveries.forget_answers(erased)
        self.attempts.enqueue(queued)
        return "Fanned" if queued else "NoEndpoint"


ERASED = (Source.CONTACTS, DetailType.CONTACT_ERASED)


@dataclass(frozen=True)
class Alerts:
    """Admins' mail about an endpoint the deliverer disabled: once per disabling (ecrm.mail)."""

    mailer: Mailer
    log: MailLog
    to: str
    clock: Clock

    def disabled(self, endpoint: StoredEndpoint) -> str:
        def render() -> Mail:
            text = DISABLED_TEXT.format(
                url=endpoint.url, id=endpoint.id, reason=endpoint.disabled_reason, since=endpoint.failing_since
            )
            page = f"<pre>{escape(text)}</pre>"
            return Mail(to=self.to, subject=f"Webhook endpoint disabled: {endpoint.id}", text=text, html=page)

        return send_once(self.log, self.mailer, self.clock, endpoint.id, f"disabled#{endpoint.version}", render)


DISABLED_TEXT = """The webhook endpoint {id} was disabled: {reason} (failing since {since}).

URL: {url}

Deliveries to it are cancelled while it is disabled. When the receiver works again, enable it
(PUT /webhooks/{id} with "enabled": true) and send what it missed again
(POST /webhooks/{id}/replay with the time range). Its log: GET /webhooks/{id}/deliveries.
"""


@dataclass(frozen=True)
class Deliverer:
    """Makes one attempt of one delivery: signed, to the checked address, within the endpoint's rate."""

    endpoints: EndpointRepository
    deliveries: DeliveryLog
    rates: RateStore
    sender: WebhookSender
    hosts: HostDirectory
    timers: Timers
    clock: Clock
    alerts: Alerts
    retry_for: timedelta = timedelta(hours=24)
    disable_after: timedelta = timedelta(days=5)
    allow_loopback: bool = False
    pick: Callable[[float, float], float] = random.uniform
    # endpoint id -> when this process tries it again after it timed out or refused a connection
    unreachable: dict[str, datetime] = field(default_factory=dict)

    def attempt(self, message: AttemptMessage) -> str:
        delivery = self.deliveries.get(message.endpoint_id, message.message_id)
        if delivery is None or delivery.status != "pending":
            return "Settled"
        endpoint = self.endpoints.get(message.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            return self._cancel(endpoint, delivery)
        if delivery.attempts == message.attempt + 1 and delivery.next_attempt_at is not None:
            # settled before a crash kept its timer from being set: set it now (by name: once)
            again = message.model_copy(update={"attempt": delivery.attempts})
            self.timers.set(attempt_timer(again, delivery.next_attempt_at))
            return "TimerRestored"
        if delivery.attempts not in (message.attempt, message.attempt + 1):
            return "Stale"
        now = self.clock.now()
        held = self._held(endpoint, message, now)
        if held:
            return held
        if not self.deliveries.claim(endpoint.id, message.message_id, message.attempt, now, now - CLAIM_TIMEOUT):
            return "Stale"
        result = self._post(endpoint, delivery, now)
        return self._settle(endpoint, delivery, message, result, now)

    def _cancel(self, endpoint: StoredEndpoint | None, delivery: Delivery) -> str:
        self.deliveries.cancel(delivery.endpoint_id, delivery.message_id, delivery.attempts)
        if endpoint is not None and endpoint.disabled_reason:  # disabled here: its mail, if not sent yet
            self.alerts.disabled(endpoint)
        return "Cancelled"

    def _held(self, endpoint: StoredEndpoint, message: AttemptMessage, now: datetime) -> str | None:
        """Why the attempt waits (its timer set again), or None: the endpoint timed out on this
        process a moment ago, or its attempts of this second are used up."""
        paused = self.unreachable.get(endpoint.id)
        if paused is not None and paused > now:
            self.timers.set(attempt_timer(message, paused))
            return "Deferred"
        if not self.rates.take(endpoint.id, int(now.timestamp()), endpoint.rate_per_second):
            self.timers.set(attempt_timer(message, now + timedelta(seconds=self.pick(1.0, 2.0))))
            return "RateLimited"
        return None

    def _post(self, endpoint: StoredEndpoint, delivery: Delivery, now: datetime) -> PostResult:
        try:
            target = destination(endpoint.url, self.hosts, self.allow_loopback)
        except InvalidInput as refused:  # resolves elsewhere now (DNS rebinding), or not at all
            return PostResult(status=None, latency_ms=0, error=f"refused: {refused.message}")
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **_signed(endpoint, delivery, now),
        }
        result = self.sender.post(target.url, target.address, headers, delivery.payload, TIMEOUT_SECONDS)
        if result.status is None:
            self.unreachable[endpoint.id] = now + UNREACHABLE_PAUSE
        else:
            self.unreachable.pop(endpoint.id, None)
        return result

    def _settle(
        self, endpoint: StoredEndpoint, delivery: Delivery, message: AttemptMessage, result: PostResult, now: datetime
    ) -> str:
        number = message.attempt + 1
        record = AttemptRecord(
            number=number,
            at=now,
            status_code=result.status,
            latency_ms=result.latency_ms,
            error=result.error,
            response=result.excerpt[:EXCERPT],
        )
        if result.ok:
            status, next_at, outcome = "delivered", None, "Delivered"
        elif now >= delivery.retry_from + self.retry_for:
            status, next_at, outcome = "failed", None, "GaveUp"
        else:
            status, next_at, outcome = "pending", now + wait_after(result, number, self.pick), "RetryScheduled"
        self.deliveries.settle(delivery, record, status, next_at, claimed_at=now)
        if next_at is not None:
            self.timers.set(attempt_timer(message.model_copy(update={"attempt": number}), next_at))
        self._health(endpoint, result.ok, now)
        return outcome

    def _health(self, endpoint: StoredEndpoint, ok: bool, now: datetime) -> None:
        """Failing since the first failure after a success; disabled once that is `disable_after` ago."""
        if ok:
            change: dict[str, Any] = {"failing_since": None} if endpoint.failing_since else {}
        elif endpoint.failing_since is None:
            change = {"failing_since": now}
        elif now - endpoint.failing_since >= self.disable_after:
            days = self.disable_after.days
            change = {"enabled": False, "disabled_reason": f"every delivery failed for {days} days"}
        else:
            change = {}
        if not change:
            return
        updated = endpoint.model_copy(update={**change, "updated_at": now, "version": endpoint.version + 1})
        try:
            self.endpoints.save(updated, endpoint.version)
        except Conflict:
            return  # an admin (or another attempt) changed it meanwhile: the next attempt looks again
        if not updated.enabled:
            self.alerts.disabled(updated)


def _signed(endpoint: StoredEndpoint, delivery: Delivery, now: datetime) -> dict[str, str]:
    return signatures.headers(endpoint.secrets_in_use(now), delivery.message_id, int(now.timestamp()), delivery.payload)
