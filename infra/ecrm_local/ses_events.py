"""SES's event publishing, locally: each mail moto's SES accepted becomes the events a configuration
set with an EventBridge destination would put on the account's default bus (source `aws.ses`).

SES's mailbox simulator decides the outcome, as it does in AWS: bounce@ hard-bounces,
complaint@ is delivered and then complained about, suppressionlist@ bounces as suppressed; every
other address (success@ included) is delivered. Those are made as mail arrives: Send, Delivery,
Bounce, Complaint. Opens and clicks (SES's tracking pixel and rewritten links) need a person: the
outbox page's buttons (`POST /_local/outbox/engage`) make them, one at a time (`engagement`).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any

from ecrm.clock import Clock

from ecrm_local import outbox
from ecrm_local.lambdas import ACCOUNT, REGION

if TYPE_CHECKING:
    from boto3.session import Session

SIMULATOR = "simulator.amazonses.com"
SOURCE = "aws.ses"
DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Open": "Email Opened",
    "Click": "Email Clicked",
}
ENGAGEMENTS = ("Open", "Click")
LOCAL_IP = "127.0.0.1"
LOCAL_USER_AGENT = "ecrm-local outbox"
_BOUNCES = {
    "bounce": ("General", "5.1.1", "smtp; 550 5.1.1 user unknown"),
    "suppressionlist": ("OnAccountSuppressionList", "5.1.1", "Amazon SES did not send the message to this address"),
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _mailbox(address: str) -> str | None:
    """The simulator mailbox (`bounce`, `complaint`, ...) an address is, or None for a real address."""
    local, _, domain = address.lower().partition("@")
    return local.split("+", 1)[0] if domain == SIMULATOR else None


def _tags(headers: dict[str, str], configuration_set: str, sender: str) -> dict[str, list[str]]:
    tags = {
        "ses:configuration-set": [configuration_set],
        "ses:from-domain": [sender.rpartition("@")[2]],
        "ses:caller-identity": ["ecrm-local"],
    }
    for pair in (headers.get("X-SES-MESSAGE-TAGS") or "").split(","):
        name, _, value = pair.strip().partition("=")
        if name and value:
            tags[name] = [value]
    return tags


def mail_object(entry: dict[str, Any], message_id: str, sent_at: datetime, configuration_set: str) -> dict[str, Any]:
    headers = entry["headers"]
    sender = next((a for _, a in getaddresses([entry["from"]]) if a), entry["from"])
    return {
        "timestamp": _iso(sent_at),
        "source": sender,
        "sendingAccountId": ACCOUNT,
        "messageId": message_id,
        "destination": entry["to"],
        "headersTruncated": False,
        "headers": [{"name": k, "value": v} for k, v in headers.items()],
        "commonHeaders": {
            "from": [entry["from"]],
            "to": entry["to"],
            "messageId": message_id,
            "subject": entry["subject"],
        },
        "tags": _tags(headers, configuration_set, sender),
    }


def _outcome(kind: str, recipient: str, at: str) -> dict[str, Any]:
    feedback = f"local-{uuid.uuid4().hex}"
    if kind == "Delivery":
        return {
            "timestamp": at,
            "processingTimeMillis": 120,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "ecrm-local",
        }
    if kind == "Complaint":
        return {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": at,
            "feedbackId": feedback,
            "complaintFeedbackType": "abuse",
            "arrivalDate": at,
        }
    sub_type, status, diagnostic = _BOUNCES[_mailbox(recipient) or "bounce"]
    return {
        "bounceType": "Permanent",
        "bounceSubType": sub_type,
        "bouncedRecipients": [
            {"emailAddress": recipient, "action": "failed", "status": status, "diagnosticCode": diagnostic}
        ],
        "timestamp": at,
        "feedbackId": feedback,
        "reportingMTA": "dsn; ecrm-local",
    }


def kinds_for(recipient: str) -> list[str]:
    """What SES reports for one recipient after the Send event."""
    mailbox = _mailbox(recipient)
    if mailbox in _BOUNCES:
        return ["Bounce"]
    if mailbox == "complaint":
        return ["Delivery", "Complaint"]
    return ["Delivery"]


def events_for(
    entry: dict[str, Any], message_id: str, sent_at: datetime, configuration_set: str
) -> list[dict[str, Any]]:
    """PutEvents entries (default bus) for one accepted mail: Send, then each recipient's outcome."""
    mail = mail_object(entry, message_id, sent_at, configuration_set)
    at = mail["timestamp"]
    details: list[tuple[str, dict[str, Any]]] = [("Send", {"eventType": "Send", "mail": mail, "send": {}})]
    for recipient in entry["to"]:
        for kind in kinds_for(recipient):
            details.append((kind, {"eventType": kind, "mail": mail, kind.lower(): _outcome(kind, recipient, at)}))
    return [
        {"Source": SOURCE, "DetailType": DETAIL_TYPES[kind], "Detail": json.dumps(d), "EventBusName": "default"}
        for kind, d in details
    ]


def engagement(
    kind: str, entry: dict[str, Any], message_id: str, at: datetime, configuration_set: str, link: str | None = None
) -> dict[str, Any]:
    """The PutEvents entry (default bus) SES publishes when a recipient opens the mail or clicks `link`."""
    if kind not in ENGAGEMENTS:
        raise ValueError(f"kind must be one of {ENGAGEMENTS}")
    sent_at = datetime.fromisoformat(entry["sent_at"]) if entry.get("sent_at") else at
    mail = mail_object(entry, message_id, sent_at, configuration_set)
    block: dict[str, Any] = {"ipAddress": LOCAL_IP, "timestamp": _iso(at), "userAgent": LOCAL_USER_AGENT}
    if kind == "Click":
        block |= {"link": link or "", "linkTags": {}}
    detail = {"eventType": kind, "mail": mail, kind.lower(): block}
    return {"Source": SOURCE, "DetailType": DETAIL_TYPES[kind], "Detail": json.dumps(detail), "EventBusName": "default"}


class UnknownMail(LookupError):
    """No mail in the outbox has that SES message id (never sent, or dropped as the oldest)."""


class SesEventPublisher:
    """Turns mail accepted since the last flush into SES events on the default bus. Called from the
    local stack's ticker (not from inside moto's send call, which must not call back into moto)."""

    def __init__(self, session: Session, clock: Clock, configuration_set: str) -> None:
        self._events = session.client("events", region_name=REGION)
        self._clock = clock
        self._configuration_set = configuration_set
        self._seen = 0
        self._lock = threading.Lock()

    def flush(self) -> int:
        with self._lock:
            sent = outbox.fresh(self._seen)  # parses only mail not seen before
            if sent:
                self._seen = sent[-1][0]
            entries: list[dict[str, Any]] = []
            for _, entry, message_id in sent:
                sent_at = datetime.fromisoformat(entry["sent_at"]) if entry.get("sent_at") else self._clock.now()
                entries += events_for(entry, message_id, sent_at, self._configuration_set)
            for start in range(0, len(entries), 10):
                self._events.put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]
            return len(sent)

    def engage(self, message_id: str, kind: str, link: str | None = None) -> dict[str, Any]:
        """Publish the Open or Click event of the kept mail `message_id`; answers PutEvents' reply."""
        found = next((entry for _, entry, mid in outbox.fresh() if mid == message_id), None)
        if found is None:
            raise UnknownMail(message_id)
        entry = engagement(kind, found, message_id, self._clock.now(), self._configuration_set, link)
        self.flush()  # the mail's own Send and Delivery go first, as in SES
        answer: dict[str, Any] = dict(self._events.put_events(Entries=[entry]))  # type: ignore[list-item]
        answer.pop("ResponseMetadata", None)
        return answer
