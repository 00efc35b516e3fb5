"""SES's event publishing, locally: each mail moto's SES accepted becomes the events a configuration
set with an EventBridge destination would put on the account's default bus (source `aws.ses`).

SES's mailbox simulator decides the outcome, as it does in AWS: bounce@ hard-bounces,
complaint@ is delivered and then complained about, suppressionlist@ bounces as suppressed; every
other address (success@ included) is delivered. Only the event kinds SES sends without tracking
pixels or link rewriting are made: Send, Delivery, Bounce, Complaint.
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
}
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
            sent = outbox.raw_messages()
            fresh, self._seen = sent[self._seen :], len(sent)
            entries: list[dict[str, Any]] = []
            for entry, message_id in fresh:
                sent_at = datetime.fromisoformat(entry["sent_at"]) if entry.get("sent_at") else self._clock.now()
                entries += events_for(entry, message_id, sent_at, self._configuration_set)
            for start in range(0, len(entries), 10):
                self._events.put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]
            return len(fresh)
