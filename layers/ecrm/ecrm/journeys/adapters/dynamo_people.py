"""The contacts as the journeys see them: facts for a branch, edits by a step, and whose an
order or a case is. Each is the owning capability's own code over its table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ecrm.clock import Clock
from ecrm.contacts.models import ContactPatch
from ecrm.contacts.service import ContactDirectory
from ecrm.errors import Conflict, NotFound
from ecrm.journeys.ports import Facts

if TYPE_CHECKING:
    from ecrm.campaigns.ports import RecipientDirectory
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.contacts.ports import ContactRepository

EDIT_ATTEMPTS = 3


class RecipientFacts:
    """The contact and their loyalty tier, read as the campaigns' sender reads a recipient."""

    def __init__(self, recipients: RecipientDirectory) -> None:
        self._recipients = recipients

    def facts(self, contact_id: str) -> Facts:
        found = self._recipients.recipients([contact_id]).get(contact_id)
        return Facts(contact=found.contact, tier=found.tier) if found else Facts(contact=None)


class ContactEdits:
    """A step's tags and fields through the contacts' own update: ContactUpdated (actor
    `journey:<id>`) in the outbox with the change, nothing when nothing changes."""

    def __init__(self, contacts: ContactRepository, clock: Clock) -> None:
        self._directory = ContactDirectory(contacts, clock)

    def edit(
        self,
        contact_id: str,
        actor: str,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        fields: Mapping[str, str] | None = None,
    ) -> bool:
        changes: dict[str, object] = {"add_tags": list(add_tags), "remove_tags": list(remove_tags)}
        for name, value in (fields or {}).items():
            if name.startswith("contact.custom."):
                changes.setdefault("custom", {})[name.removeprefix("contact.custom.")] = value  # type: ignore[index]
            else:
                changes[name.removeprefix("contact.")] = value
        patch = ContactPatch.model_validate(changes)
        for attempt in range(EDIT_ATTEMPTS):
            try:
                self._directory.update(contact_id, patch, actor=actor)
                return True
            except NotFound:
                return False
            except Conflict:
                if attempt == EDIT_ATTEMPTS - 1:
                    raise
        return False  # pragma: no cover - the loop returns or raises


class People:
    """OwnerDirectory: an order's contact by e-mail address, a case's requester."""

    def __init__(self, contacts: ContactRepository, cases: DynamoCases) -> None:
        self._contacts = contacts
        self._cases = cases

    def by_email(self, email: str) -> str | None:
        contact = self._contacts.find_by_email(email)
        return contact.id if contact else None

    def requester_of(self, case_id: str) -> str | None:
        return self._cases.requester_of(case_id)
