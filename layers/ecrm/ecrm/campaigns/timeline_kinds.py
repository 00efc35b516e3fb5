"""How the campaigns' events read on a contact's timeline (ecrm.timeline)."""

from __future__ import annotations

from ecrm.campaigns.names import DetailType
from ecrm.names import Source
from ecrm.timeline import Kind

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
)
