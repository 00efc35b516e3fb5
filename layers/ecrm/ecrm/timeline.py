"""How events read on a contact's timeline: each capability declares its kinds with itself
(`ecrm.<capability>.timeline_kinds.KINDS`), and the contact 360 finds them all (`declared()`), so a new
capability adds its kinds without a line changed elsewhere.

A kind names the detail-type it reads, how the event names its contact (a field of the detail, or
through the case it is about), a stable name (`case.commented`) and a sentence for people. Events
carry ids, never personal data (ecrm.events), and so does the timeline.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

Detail = Mapping[str, Any]
_ACTOR = re.compile(r"^(user|client):[A-Za-z0-9_.@:-]{1,128}$")


@dataclass(frozen=True)
class Kind:
    source: str  # the publisher (`ecrm.cases`, or an AWS service: `aws.ses`)
    detail_type: str  # `CaseCommented.v1`
    name: str  # what the timeline calls it, filterable: `case.commented`
    describe: Callable[[Detail], str]  # a sentence for people, from the detail's ids and numbers
    contact_field: str = "contact_id"  # the detail field naming the contact ("" if none does)
    case_field: str = ""  # or the field naming the case whose requester it is about
    # For events that are not ours (an AWS service's): where the contact is, when it happened, and
    # the part of the detail the timeline keeps (ids only: theirs may carry addresses).
    locate: Callable[[Detail], str | None] | None = None
    when: Callable[[Detail], str] | None = None
    keep: Callable[[Detail], dict[str, Any]] | None = None

    def contact_of(self, detail: Detail) -> str | None:
        if self.locate is not None:
            return self.locate(detail)
        value = detail.get(self.contact_field) if self.contact_field else None
        return str(value) if value else None

    def occurred_at(self, detail: Detail) -> str:
        return self.when(detail) if self.when is not None else str(detail.get("occurred_at", ""))

    def actor_of(self, detail: Detail) -> str | None:
        """Who acted (ecrm.events.DomainEvent.actor): ours name them; an AWS service's events do not."""
        if self.keep is not None:
            return None
        actor = detail.get("actor")
        return actor if isinstance(actor, str) and _ACTOR.match(actor) else None

    def shown(self, detail: Detail) -> dict[str, Any]:
        return self.keep(detail) if self.keep is not None else dict(detail)

    @property
    def bus(self) -> str:
        """AWS services publish to the account's default bus; we publish to ours."""
        return "default" if self.source.startswith("aws.") else "custom"


@cache
def declared() -> tuple[Kind, ...]:
    """Every capability's kinds: each `ecrm.<package>.timeline_kinds` module's `KINDS`."""
    import ecrm

    found: list[Kind] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(ecrm.__path__) if m.ispkg):
        try:
            kinds = importlib.import_module(f"ecrm.{module}.timeline_kinds").KINDS
        except ModuleNotFoundError as exc:
            if exc.name != f"ecrm.{module}.timeline_kinds":
                raise
            continue
        found.extend(kinds)
    names = [k.name for k in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"timeline kinds declared twice: {duplicates}")
    return tuple(found)


def by_detail_type() -> dict[tuple[str, str], Kind]:
    return {(k.source, k.detail_type): k for k in declared()}
