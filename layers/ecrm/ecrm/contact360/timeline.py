"""Each contact's timeline, built from the bus: every event a capability declared a kind for
(ecrm.timeline) becomes one entry on the timeline of the contact it names, kept for its kind's
retention; an erased contact's timeline goes with them and takes no new entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ecrm.clock import Clock
from ecrm.contact360.models import TimelineEntry, TimelinePage
from ecrm.contact360.ports import RequesterDirectory, TimelineLog
from ecrm.errors import InvalidInput
from ecrm.names import DetailType, Source
from ecrm.timeline import Kind, by_detail_type

DEFAULT_RETENTION = "default"


def retention(setting: str) -> dict[str, timedelta]:
    """`default=730,mail.opened=90`: days each kind is kept (`default` for the others)."""
    days: dict[str, timedelta] = {}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        name, _, value = part.partition("=")
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"timeline retention: {part!r} is not <kind>=<days>")
        days[name.strip()] = timedelta(days=int(value))
    days.setdefault(DEFAULT_RETENTION, timedelta(days=730))
    return days


@dataclass(frozen=True)
class TimelineService:
    log: TimelineLog
    requesters: RequesterDirectory
    clock: Clock
    keep: Mapping[str, timedelta] = field(default_factory=lambda: retention(""))
    kinds: Mapping[tuple[str, str], Kind] = field(default_factory=by_detail_type)

    def record(self, source: str, detail_type: str, detail: Mapping[str, Any]) -> str:
        """One event off the bus; its outcome: Added; Erased (the contact is gone: dropped);
        NoContact (the event names nobody we can find); Ignored (no kind declared); Emptied (it was
        ContactErased, and the contact's timeline went)."""
        if (source, detail_type) == (Source.CONTACTS, DetailType.CONTACT_ERASED):
            self.erase(_contact_id(detail))
            return "Emptied"
        kind = self.kinds.get((source, detail_type))
        if kind is None:
            return "Ignored"
        contact_id = kind.contact_of(detail) or self._requester(kind, detail)
        if contact_id is None:
            return "NoContact"
        at = _occurred_at(kind.occurred_at(detail))
        entry = TimelineEntry(
            at=at,
            kind=kind.name,
            text=kind.describe(detail),
            source=source,
            detail_type=detail_type,
            detail=kind.shown(detail),
            actor=kind.actor_of(detail),
        )
        keep = self.keep.get(kind.name, self.keep[DEFAULT_RETENTION])
        return "Added" if self.log.add(contact_id, entry, at + keep) else "Erased"

    def page(self, contact_id: str, kinds: Sequence[str], limit: int, cursor: str | None) -> TimelinePage:
        known = {k.name for k in self.kinds.values()}
        unknown = sorted(set(kinds) - known)
        if unknown:
            raise InvalidInput("kinds", f"unknown kinds {unknown}; known: {sorted(known)}")
        return self.log.page(contact_id, kinds, limit, cursor)

    def erase(self, contact_id: str) -> int:
        return self.log.erase(contact_id, self.clock.now())

    def _requester(self, kind: Kind, detail: Mapping[str, Any]) -> str | None:
        case_id = detail.get(kind.case_field) if kind.case_field else None
        return self.requesters.requester_of(str(case_id)) if case_id else None


def _contact_id(detail: Mapping[str, Any]) -> str:
    value = detail.get("contact_id")
    if not isinstance(value, str) or not value:
        raise InvalidInput("detail.contact_id", "missing")
    return value


def _occurred_at(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("detail.occurred_at", "missing or not an ISO 8601 time") from exc
