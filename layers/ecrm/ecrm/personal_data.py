"""What one capability holds about one contact: the parts of the complete GDPR export (Art. 15/20).

Every capability that keeps data about contacts declares, with its adapters, where all of it is
(`ecrm.<capability>.adapters.dynamo_personal_data`): which items, found by which keys, and under
which section names they read in the export. The contact 360 puts the parts together. A table
that holds none says why in the topology (`Table(no_personal_data=...)`), and a test generated over
every table proves that each item referring to a contact is part of its export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Storage keys and housekeeping: how an item is found, not what is held.
_STORAGE = frozenset({"pk", "sk", "version", "expires_at"})


@dataclass(frozen=True)
class Subject:
    """Whom an export is about: the contact's id and, while the profile exists, its address."""

    contact_id: str
    email: str | None = None


@dataclass(frozen=True)
class Holding:
    """One stored item about the subject, as the export shows it. `key` is the item's (pk, sk):
    nothing the person reads, but what proves that no item was left out."""

    section: str
    record: dict[str, Any]
    key: tuple[str, str]


def holding(section: str, item: Mapping[str, Any], documents: Iterable[str] = ()) -> Holding:
    """A plain item (ecrm.adapters.dynamo.plain) as a holding: its sort key as `item_key` (it often
    says what the item is: `TAG#vip`, `MAIL#consent-confirm#<request>`), other storage and index
    keys left out, attributes stored as JSON documents (`documents`) read back as what they hold."""
    record: dict[str, Any] = {"item_key": str(item["sk"])}
    for name, value in item.items():
        if name in _STORAGE or name.startswith("gsi"):
            continue
        record[name] = json.loads(value) if name in documents and isinstance(value, str) else value
    return Holding(section=section, record=record, key=(str(item["pk"]), str(item["sk"])))


def section_of(sort_key: str, sections: Sequence[tuple[str, str]]) -> str:
    """The section an item belongs to, by the first matching sort-key prefix (`("COMMENT#",
    "case_comments")`); an item of a kind nobody named still goes out, as "other"."""
    return next((section for prefix, section in sections if sort_key.startswith(prefix)), "other")
