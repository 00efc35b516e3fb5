"""Companies for B2B use: a company owns e-mail domains, and a contact captured with an address on
one of them belongs to it; staff may link a contact to a company by hand, and that link is not
moved by a domain. A company's view: its contacts, their open cases and their order totals."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ecrm import access
from ecrm.clock import Clock
from ecrm.contact360.events import CompanyUpdated, ContactCompanyChanged
from ecrm.contact360.models import Company, CompanyMember, CompanyRequest, CompanyView, OrderTotal, RelatedCase
from ecrm.contact360.ports import CaseDirectory, CompanyRepository, OrderLog, SubjectDirectory
from ecrm.contact360.related import newest_first
from ecrm.errors import Conflict, InvalidInput, NotFound

MAX_CONTACTS = 100  # in one company view; `complete: false` says there were more
# Mailbox providers: an address there says nothing about an employer.
FREE_MAIL = frozenset(
    {
        "aol.com", "gmail.com", "gmx.at", "gmx.de", "gmx.net", "googlemail.com", "hotmail.com", "icloud.com",
        "live.com", "mail.com", "mail.ru", "me.com", "msn.com", "outlook.com", "posteo.de", "proton.me",
        "protonmail.com", "qq.com", "t-online.de", "web.de", "yahoo.com", "yahoo.de", "yandex.ru",
    }
)  # fmt: skip


def domain_of(email: str) -> str | None:
    """The company domain of an address; None for a mailbox provider's."""
    domain = email.rpartition("@")[2].strip().lower()
    return None if not domain or domain in FREE_MAIL else domain


def joined(
    company: Company, member: CompanyMember, reason: Literal["linked", "company_updated"] = "linked"
) -> ContactCompanyChanged:
    """The event telling that `member` belongs to `company` as it is now."""
    return ContactCompanyChanged(
        occurred_at=member.linked_at if reason == "linked" else company.updated_at,
        contact_id=member.contact_id,
        company_id=company.id,
        company_version=company.version,
        attributes=dict(company.attributes),
        since=member.linked_at,
        reason=reason,
    )


def left(contact_id: str, at: datetime, actor: str | None = None) -> ContactCompanyChanged:
    return ContactCompanyChanged(
        occurred_at=at, contact_id=contact_id, company_id=None, since=at, reason="unlinked", actor=actor
    )


def _owned(domains: list[str]) -> list[str]:
    free = sorted(set(domains) & FREE_MAIL)
    if free:
        raise InvalidInput("domains", f"{', '.join(free)}: a mailbox provider's domain belongs to no company")
    return sorted(set(domains))


@dataclass(frozen=True)
class CompanyService:
    companies: CompanyRepository
    subjects: SubjectDirectory
    cases: CaseDirectory
    orders: OrderLog
    clock: Clock
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    # -- staff -----------------------------------------------------------------------------------
    def create(self, request: CompanyRequest) -> Company:
        now = self.clock.now()
        company = Company(
            id=self.new_id(),
            name=request.name,
            domains=_owned(request.domains),
            attributes=dict(request.attributes),
            created_at=now,
            updated_at=now,
        )
        self.companies.create(company)
        return company

    def update(self, company_id: str, request: CompanyRequest, actor: str | None = None) -> Company:
        before = self.get(company_id)
        if request.expected_version is not None and request.expected_version != before.version:
            raise Conflict(f"company is at version {before.version}, not {request.expected_version}")
        updated = before.model_copy(
            update={
                "name": request.name,
                "domains": _owned(request.domains),
                "attributes": dict(request.attributes),
                "updated_at": self.clock.now(),
                "version": before.version + 1,
            }
        )
        changed = sorted(k for k in ("name", "domains", "attributes") if getattr(updated, k) != getattr(before, k))
        events = [
            CompanyUpdated(
                occurred_at=updated.updated_at,
                company_id=updated.id,
                version=updated.version,
                changed=changed,
                actor=actor,
            )
        ]
        self.companies.save(updated, before, events if changed else ())
        return updated

    def get(self, company_id: str) -> Company:
        company = self.companies.get(company_id)
        if company is None:
            raise NotFound("company")
        return company

    def by_domain(self, domain: str) -> Company:
        company = self.companies.by_domain(domain.strip().lower())
        if company is None:
            raise NotFound("company")
        return company

    def link(self, company_id: str, contact_id: str, actor: str | None = None) -> CompanyMember:
        company = self.get(company_id)
        subject = self.subjects.subject(contact_id)
        if subject is None or subject.email is None:  # never a contact, or erased
            raise NotFound("contact")
        member = CompanyMember(contact_id=contact_id, linked_by="staff", linked_at=self.clock.now())
        event = joined(company, member).model_copy(update={"actor": actor})
        self.companies.link(company_id, member, company.version, [event])
        return member

    def unlink(self, company_id: str, contact_id: str, actor: str | None = None) -> None:
        self.get(company_id)
        if not self.companies.unlink(contact_id, company_id, [left(contact_id, self.clock.now(), actor)]):
            raise NotFound("contact in this company")

    def view(self, company_id: str, roles: Set[str]) -> CompanyView:
        company = self.get(company_id)
        members, complete = self.companies.members(company_id, MAX_CONTACTS)
        ids = [m.contact_id for m in members]
        show_cases = bool(roles & set(access.CASE_READ))
        return CompanyView(
            company=company,
            contacts=members,
            open_cases=self._open_cases(ids) if show_cases else None,
            order_totals=self._totals(ids),
            complete=complete,
        )

    # -- the view's parts ------------------------------------------------------------------------
    def _open_cases(self, contact_ids: list[str]) -> list[RelatedCase]:
        found = [case for contact_id in contact_ids for case in self.cases.requested_by(contact_id) if case.active]
        return newest_first(found)

    def _totals(self, contact_ids: list[str]) -> list[OrderTotal]:
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for contact_id in contact_ids:
            for order in self.orders.orders_of(contact_id):
                if order.earned is None:
                    continue
                refunded = sum(order.refunds.by_sku.values()) + order.refunds.unallocated_minor
                total = sums[order.earned.currency]
                total[0] += 1
                total[1] += order.earned.total_minor
                total[2] += refunded
        return [
            OrderTotal(currency=currency, orders=n, total_minor=paid, refunded_minor=back)
            for currency, (n, paid, back) in sorted(sums.items())
        ]


@dataclass(frozen=True)
class CompanyLinks:
    """What the bus changes: a captured contact joins the company owning its address's domain (a
    link staff made stays); an erased one leaves."""

    companies: CompanyRepository
    subjects: SubjectDirectory
    clock: Clock

    def on_captured(self, contact_id: str) -> str:
        """A contact captured: linked to the company owning its address's domain, if one does."""
        subject = self.subjects.subject(contact_id)
        domain = domain_of(subject.email) if subject and subject.email else None
        company = self.companies.by_domain(domain) if domain else None
        if company is None:
            return "NoCompany"
        current = self.companies.company_of(contact_id)
        if current is not None and current.linked_by == "staff":
            return "KeptStaffLink"
        member = CompanyMember(contact_id=contact_id, linked_by="domain", linked_at=self.clock.now())
        linked = self.companies.link(company.id, member, company.version, [joined(company, member)])
        return "Linked" if linked else "AlreadyLinked"

    def on_erased(self, contact_id: str) -> str:
        unlinked = self.companies.unlink(contact_id, events=[left(contact_id, self.clock.now())])
        return "Unlinked" if unlinked else "NotLinked"

    def on_company_updated(self, company_id: str, changed: Sequence[str]) -> str:
        """Tell each of the company's contacts its attributes as they are now, at the company's
        current version (the segment index keeps the newest): a late or repeated event tells the
        same again, which changes nothing."""
        company = self.companies.get(company_id)
        if "attributes" not in changed or company is None:
            return "NothingToTell"
        self.companies.announce([joined(company, m, "company_updated") for m in self.companies.each_member(company_id)])
        return "Told"
