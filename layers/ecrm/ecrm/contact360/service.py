"""The contact 360's services: the complete GDPR export (every capability's holdings about one
contact, in one document), and the API's bundle of it with the timeline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ecrm.clock import Clock
from ecrm.contact360.models import PersonalDataExport
from ecrm.contact360.ports import PersonalDataStore, SubjectDirectory
from ecrm.errors import NotFound
from ecrm.personal_data import Holding

if TYPE_CHECKING:
    from ecrm.contact360.companies import CompanyService
    from ecrm.contact360.related import RelatedService
    from ecrm.contact360.timeline import TimelineService


@dataclass(frozen=True)
class Dossier:
    """An export and the stored items it was made of (their keys prove nothing was left out)."""

    export: PersonalDataExport
    holdings: dict[str, list[Holding]]


@dataclass(frozen=True)
class ExportService:
    subjects: SubjectDirectory
    stores: Sequence[PersonalDataStore]
    clock: Clock

    def export(self, contact_id: str) -> PersonalDataExport:
        return self.dossier(contact_id).export

    def dossier(self, contact_id: str) -> Dossier:
        subject = self.subjects.subject(contact_id)
        if subject is None:
            raise NotFound("contact")
        holdings = {store.capability: store.holdings(subject) for store in self.stores}
        held: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for capability, found in holdings.items():
            sections = held.setdefault(capability, {})
            for item in found:
                sections.setdefault(item.section, []).append(item.record)
        export = PersonalDataExport(
            contact_id=contact_id, exported_at=self.clock.now(), erased=subject.email is None, held=held
        )
        return Dossier(export=export, holdings=holdings)


@dataclass(frozen=True)
class Contact360Api:
    """What contact360_api serves: a contact's timeline, related records and complete export, and
    companies. Each part is built on its first use (compose gives how): a timeline request makes no
    export and imports no other capability's adapters."""

    build_exports: Callable[[], ExportService]
    build_timelines: Callable[[], TimelineService]
    build_related: Callable[[], RelatedService]
    build_companies: Callable[[], CompanyService]

    @cached_property
    def exports(self) -> ExportService:
        return self.build_exports()

    @cached_property
    def timelines(self) -> TimelineService:
        return self.build_timelines()

    @cached_property
    def related(self) -> RelatedService:
        return self.build_related()

    @cached_property
    def companies(self) -> CompanyService:
        return self.build_companies()
