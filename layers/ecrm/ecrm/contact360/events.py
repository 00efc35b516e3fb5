"""Events the contact 360 puts on the bus: which company a contact belongs to, and a company's
changes. Company attributes (industry, size, country, ...) are facts about the company, not the
person, so they travel: the campaigns' segment index keeps them on each member and cannot read the
contact 360's table (it is deployed before it).

A contact's company is ordered by `(since, company_version)`: `since` is when the contact joined
(or left) it, `company_version` the company record's version the attributes were read at. A reader
keeps the greatest pair it has seen, so events arriving late or twice change nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from ecrm.contact360.names import DetailType
from ecrm.events import DomainEvent
from ecrm.names import Source


class Contact360Event(DomainEvent):
    source: ClassVar[str] = Source.CONTACT360


class CompanyUpdated(Contact360Event):
    """A company's record changed (`changed`: its fields); its contacts are told one by one
    (ContactCompanyChanged, `reason` "company_updated") when its attributes did."""

    detail_type: ClassVar[str] = DetailType.COMPANY_UPDATED

    company_id: str
    version: int
    changed: list[str]


class ContactCompanyChanged(Contact360Event):
    """The contact's company now: linked, moved, left, or the company's attributes changed."""

    detail_type: ClassVar[str] = DetailType.CONTACT_COMPANY_CHANGED

    contact_id: str
    company_id: str | None  # None: the contact belongs to no company any more
    company_version: int = 0
    attributes: dict[str, str] = {}
    since: datetime  # when the contact joined (or left) the company
    reason: Literal["linked", "unlinked", "company_updated"]


CONTACT360_EVENT_TYPES: dict[str, type[Contact360Event]] = {
    cls.detail_type: cls for cls in (CompanyUpdated, ContactCompanyChanged)
}
