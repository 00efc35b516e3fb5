"""unit: companies over in-memory fakes: domains, links by domain and by staff, the view's totals."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from ecrm.cases.models import Case
from ecrm.contact360.companies import CompanyLinks, CompanyService, domain_of
from ecrm.contact360.events import CompanyUpdated, ContactCompanyChanged
from ecrm.contact360.models import Company, CompanyMember, CompanyRequest
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.events import DomainEvent
from ecrm.loyalty.state import Earned, OrderRecord, Refunds
from ecrm.personal_data import Subject

AT = datetime(2026, 12, 1, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return AT


class Companies:
    def __init__(self) -> None:
        self.companies: dict[str, Company] = {}
        self.links: dict[str, tuple[str, CompanyMember]] = {}
        self.announced: list[DomainEvent] = []

    def create(self, company: Company) -> None:
        if any(d in c.domains for c in self.companies.values() for d in company.domains):
            raise Conflict("taken")
        self.companies[company.id] = company

    def save(self, company: Company, before: Company, events: Sequence[DomainEvent] = ()) -> None:
        self.companies[company.id] = company
        self.announced += events

    def get(self, company_id: str) -> Company | None:
        return self.companies.get(company_id)

    def by_domain(self, domain: str) -> Company | None:
        return next((c for c in self.companies.values() if domain in c.domains), None)

    def company_of(self, contact_id: str) -> CompanyMember | None:
        found = self.links.get(contact_id)
        return found[1] if found else None

    def members(self, company_id: str, limit: int) -> tuple[list[CompanyMember], bool]:
        found = [m for c, m in self.links.values() if c == company_id]
        return found[:limit], len(found) <= limit

    def each_member(self, company_id: str) -> Iterator[CompanyMember]:
        return iter([m for c, m in self.links.values() if c == company_id])

    def announce(self, events: Sequence[DomainEvent]) -> None:
        self.announced += events

    def link(
        self, company_id: str, member: CompanyMember, company_version: int, events: Sequence[DomainEvent] = ()
    ) -> bool:
        current = self.links.get(member.contact_id)
        if current and current[0] == company_id and current[1].linked_by == member.linked_by:
            return False
        if self.companies[company_id].version != company_version:
            raise Conflict("company changed")
        self.links[member.contact_id] = (company_id, member)
        self.announced += events
        return True

    def unlink(self, contact_id: str, company_id: str | None = None, events: Sequence[DomainEvent] = ()) -> bool:
        current = self.links.get(contact_id)
        if current is None or (company_id and current[0] != company_id):
            return False
        del self.links[contact_id]
        self.announced += events
        return True


class Subjects:
    def subject(self, contact_id: str) -> Subject | None:
        return {"ann": Subject("ann", "ann@acme.example"), "bob": Subject("bob", "bob@gmail.com")}.get(contact_id)


class NoCases:
    def requested_by(self, contact_id: str) -> list[Case]:
        return []


def _order(order_id: str, total: int, currency: str, refunded: int = 0) -> OrderRecord:
    earned = Earned(
        member_id="ann",
        points=1,
        total_minor=total,
        currency=currency,
        lines={},
        bonus_weight=0,
        lot="2026-12",
        rule_version="1",
        at=AT,
    )
    return OrderRecord(order_id=order_id, earned=earned, refunds=Refunds(unallocated_minor=refunded))


class Orders:
    def orders_of(self, member_id: str) -> list[OrderRecord]:
        placed = [_order("o1", 1000, "EUR", refunded=250), _order("o2", 500, "EUR"), _order("o3", 900, "GBP")]
        return [*placed, OrderRecord(order_id="parked")] if member_id == "ann" else []


def _service() -> tuple[CompanyService, Companies]:
    companies = Companies()
    ids = iter(f"{n:032x}" for n in range(1, 100))
    service = CompanyService(companies, Subjects(), NoCases(), Orders(), Clock(), new_id=lambda: next(ids))
    return service, companies


def _links(companies: Companies) -> CompanyLinks:
    return CompanyLinks(companies, Subjects(), Clock())


def test_a_mailbox_providers_domain_is_no_companys():
    assert domain_of("Ann@ACME.example") == "acme.example" and domain_of("bob@gmail.com") is None
    service, _ = _service()
    with pytest.raises(InvalidInput) as refused:
        service.create(CompanyRequest(name="Fans", domains=["gmail.com", "acme.example"]))
    assert refused.value.field == "domains" and "gmail.com" in str(refused.value)


def test_captured_contacts_join_by_domain_and_staff_links_are_kept():
    service, companies = _service()
    links = _links(companies)
    acme = service.create(CompanyRequest(name="Acme", domains=["acme.example"]))
    other = service.create(CompanyRequest(name="Other", domains=["other.example"]))
    assert links.on_captured("ann") == "Linked" and links.on_captured("ann") == "AlreadyLinked"
    assert links.on_captured("bob") == "NoCompany"
    assert service.link(other.id, "ann").linked_by == "staff"
    assert links.on_captured("ann") == "KeptStaffLink"
    assert companies.links["ann"][0] == other.id and acme.id != other.id
    with pytest.raises(NotFound):
        service.link(other.id, "nobody")
    assert links.on_erased("ann") == "Unlinked" and links.on_erased("ann") == "NotLinked"


def test_the_view_sums_orders_per_currency_and_hides_cases_from_roles_without_them():
    service, companies = _service()
    acme = service.create(CompanyRequest(name="Acme", domains=["acme.example"]))
    _links(companies).on_captured("ann")
    view = service.view(acme.id, {"marketer"})
    assert view.open_cases is None and view.complete
    assert [(t.currency, t.orders, t.total_minor, t.refunded_minor) for t in view.order_totals] == [
        ("EUR", 2, 1500, 250),
        ("GBP", 1, 900, 0),
    ]
    assert service.view(acme.id, {"agent"}).open_cases == []


def test_an_update_at_the_wrong_version_is_a_conflict():
    service, _ = _service()
    acme = service.create(CompanyRequest(name="Acme", domains=["acme.example"]))
    with pytest.raises(Conflict):
        service.update(acme.id, CompanyRequest(name="Acme 2", expected_version=3))
    assert service.update(acme.id, CompanyRequest(name="Acme 2", expected_version=1)).version == 2


def _told(companies: Companies) -> list[tuple[str, str | None, int, dict[str, str], str, str | None]]:
    return [
        (e.contact_id, e.company_id, e.company_version, e.attributes, e.reason, e.actor)
        for e in companies.announced
        if isinstance(e, ContactCompanyChanged)
    ]


def test_links_and_changed_attributes_are_told_to_the_segment_index_once_per_change():
    service, companies = _service()
    acme = service.create(CompanyRequest(name="Acme", domains=["acme.example"], attributes={"industry": "Retail"}))
    links = _links(companies)
    assert links.on_captured("ann") == "Linked" and links.on_captured("ann") == "AlreadyLinked"
    assert _told(companies) == [("ann", acme.id, 1, {"industry": "Retail"}, "linked", None)]
    companies.announced.clear()
    renamed = CompanyRequest(name="Acme Ltd", domains=["acme.example"], attributes={"industry": "Retail"})
    service.update(acme.id, renamed, actor="user:u1")
    assert links.on_company_updated(acme.id, ["name"]) == "NothingToTell" and _told(companies) == []
    moved = CompanyRequest(name="Acme Ltd", domains=["acme.example"], attributes={"industry": "Software"})
    service.update(acme.id, moved, actor="user:u1")
    assert [e.changed for e in companies.announced if isinstance(e, CompanyUpdated)] == [["name"], ["attributes"]]
    companies.announced.clear()
    assert links.on_company_updated(acme.id, ["attributes"]) == "Told"
    assert _told(companies) == [("ann", acme.id, 3, {"industry": "Software"}, "company_updated", None)]
    companies.announced.clear()
    service.unlink(acme.id, "ann", actor="user:u2")
    assert _told(companies) == [("ann", None, 0, {}, "unlinked", "user:u2")]
