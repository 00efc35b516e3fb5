"""The events a journey can hear, and how each names its contact.

Every capability's events are here (contacts, cases, loyalty, campaigns), the shop's orders, and
SES engagement with campaign and journey mail (`Email Opened`, `Email Clicked`, from the default
bus). Most name the contact in a detail field; an order may name only an e-mail address (found
through the contacts' e-mail index), and a solved or rated case names only the case (its
requester is read from the case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ecrm.campaigns.names import DetailType as CampaignType
from ecrm.cases.names import DetailType as CaseType
from ecrm.loyalty.names import DetailType as LoyaltyType
from ecrm.names import DetailType, Source

SES_SOURCE = "aws.ses"
OPENED = "Email Opened"
CLICKED = "Email Clicked"

# SES message tags on a journey's mail (letters, digits, '_' and '-'): engagement finds its step.
TAG_JOURNEY = "ecrm_journey"
TAG_VERSION = "ecrm_journey_version"
TAG_ENTRY = "ecrm_journey_entry"
TAG_STEP = "ecrm_journey_step"
TAG_CONTACT = "ecrm_contact"  # the campaigns' tag: one name for "the mail's contact"

How = Literal["field", "email", "case", "tags"]


@dataclass(frozen=True)
class Heard:
    detail_type: str
    source: str
    how: How
    field: str = "contact_id"


HEARD: tuple[Heard, ...] = (
    Heard(DetailType.CONTACT_CAPTURED, Source.CONTACTS, "field"),
    Heard(DetailType.CONTACT_UPDATED, Source.CONTACTS, "field"),
    Heard(DetailType.CONSENT_CONFIRMED, Source.CONTACTS, "field"),
    Heard(CaseType.CASE_CREATED, Source.CASES, "field", "requester_id"),
    Heard(CaseType.CASE_SOLVED, Source.CASES, "case", "case_id"),
    Heard(CaseType.CASE_RATED, Source.CASES, "case", "case_id"),
    Heard(LoyaltyType.POINTS_EARNED, Source.LOYALTY, "field", "member_id"),
    Heard(LoyaltyType.POINTS_REDEEMED, Source.LOYALTY, "field", "member_id"),
    Heard(LoyaltyType.TIER_CHANGED, Source.LOYALTY, "field", "member_id"),
    Heard(CampaignType.CONTACT_UNSUBSCRIBED, Source.CAMPAIGNS, "field"),
    Heard(LoyaltyType.ORDER_PLACED, Source.SHOP, "email", "email"),
    Heard(OPENED, SES_SOURCE, "tags"),
    Heard(CLICKED, SES_SOURCE, "tags"),
)
BY_TYPE: dict[str, Heard] = {h.detail_type: h for h in HEARD}
# Also heard, never a journey's entry or goal: an erased contact leaves every journey.
ERASED = DetailType.CONTACT_ERASED
BUS_TYPES = tuple(sorted({h.detail_type for h in HEARD if h.source != SES_SOURCE} | {ERASED}))
BUS_SOURCES = tuple(sorted({h.source for h in HEARD if h.source != SES_SOURCE} | {Source.CONTACTS}))


def tags_of(detail: Mapping[str, Any]) -> dict[str, str]:
    """SES writes each message tag as a list of values: the first one."""
    mail = detail.get("mail")
    tags = mail.get("tags") if isinstance(mail, Mapping) else None
    if not isinstance(tags, Mapping):
        return {}
    found = {}
    for name, values in tags.items():
        if isinstance(values, list) and values and isinstance(values[0], str):
            found[str(name)] = values[0]
    return found


def value_at(detail: Mapping[str, Any], dotted: str) -> Any:
    """A nested detail field by dotted path (`lines.0.sku` is not supported: lists are values)."""
    value: Any = detail
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def matches(filter_: Mapping[str, Any], detail: Mapping[str, Any]) -> bool:
    """Each key's value equals the filter's (a list: any of them); a list in the detail holds it."""
    for key, wanted in filter_.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        found = value_at(detail, key)
        present = found if isinstance(found, list) else [found]
        if not any(_same(option, value) for option in options for value in present):
            return False
    return True


def _same(wanted: Any, found: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(found, bool):
        return wanted is found
    return bool(wanted == found)
