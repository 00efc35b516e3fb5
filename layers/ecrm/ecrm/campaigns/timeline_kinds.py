"""How the campaigns' events read on a contact's timeline (ecrm.timeline): our unsubscribe and
suppression events, and SES's events for campaign mail (sent, delivered, opened, clicked, bounced,
complained), whose message tags name the campaign, run and contact. SES's detail also carries the
addresses and the mail's headers: the timeline keeps the ids and the event's time only."""

from __future__ import annotations

from typing import Any

from ecrm.campaigns.feedback import SOURCE as SES
from ecrm.campaigns.names import DetailType
from ecrm.campaigns.sending import TAG_CAMPAIGN, TAG_CONTACT, TAG_RUN
from ecrm.names import Source
from ecrm.timeline import Detail, Kind

# SES detail-type -> (kind, the detail's block with the event's own time, what it says)
_SES = {
    "Email Sent": ("mail.sent", "send", "sent"),
    "Email Delivered": ("mail.delivered", "delivery", "delivered"),
    "Email Opened": ("mail.opened", "open", "opened"),
    "Email Clicked": ("mail.clicked", "click", "clicked"),
    "Email Bounced": ("mail.bounced", "bounce", "bounced"),
    "Email Complaint Received": ("mail.complained", "complaint", "marked as spam"),
}


def _tag(detail: Detail, name: str) -> str | None:
    mail = detail.get("mail")
    values = (mail.get("tags") or {}).get(name) if isinstance(mail, dict) else None
    return str(values[0]) if isinstance(values, list) and values else None


def _ids(detail: Detail) -> dict[str, Any]:
    mail, bounce = (part if isinstance(part := detail.get(name), dict) else {} for name in ("mail", "bounce"))
    kept = {
        "campaign_id": _tag(detail, TAG_CAMPAIGN),
        "run_id": _tag(detail, TAG_RUN),
        "message_id": mail.get("messageId"),
        "bounce_type": bounce.get("bounceType"),
    }
    return {name: value for name, value in kept.items() if value}


def _ses(detail_type: str, name: str, block: str, says: str) -> Kind:
    def when(detail: Detail) -> str:  # the event's own time; a send's is the mail's
        for part in (detail.get(block), detail.get("mail")):
            if isinstance(part, dict) and part.get("timestamp"):
                return str(part["timestamp"])
        return ""

    return Kind(
        SES,
        detail_type,
        name,
        lambda d: f"Campaign {str(_tag(d, TAG_CAMPAIGN) or '')[:8]} mail {says}",
        contact_field="",
        locate=lambda d: _tag(d, TAG_CONTACT),
        when=when,
        keep=_ids,
    )


KINDS = (
    Kind(
        Source.CAMPAIGNS,
        DetailType.CONTACT_UNSUBSCRIBED,
        "mail.unsubscribed",
        lambda d: f"Unsubscribed from {', '.join(d.get('topics') or [])}",
    ),
    Kind(
        Source.CAMPAIGNS,
        DetailType.MAIL_SUPPRESSED,
        "mail.suppressed",
        lambda d: f"Address suppressed: the mail {d.get('reason')}",
    ),
    *(_ses(detail_type, *how) for detail_type, how in _SES.items()),
)
