"""What the contact 360 needs from the outside world: each capability's holdings about a contact."""

from __future__ import annotations

from typing import Protocol

from ecrm.personal_data import Holding, Subject


class PersonalDataStore(Protocol):
    """Everything one capability holds about one contact (its `adapters/dynamo_personal_data.py`)."""

    capability: str

    def holdings(self, subject: Subject) -> list[Holding]: ...


class SubjectDirectory(Protocol):
    """Who a contact id is: the contacts capability knows the address while the profile exists."""

    def subject(self, contact_id: str) -> Subject | None: ...
