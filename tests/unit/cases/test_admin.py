"""unit: the staff directory (remembered callers, team leads, management, fallback) and policy edits
(which cases a change replans, the recompute pages)."""

from datetime import timedelta

import pytest
from ecrm.access import Caller
from ecrm.cases.events import CaseEvent
from ecrm.cases.mailer import CaseMailer
from ecrm.cases.models import RecomputeRequest, StaffConfig
from ecrm.cases.policy import PolicyBook, PolicyBookView, SlaPolicy
from ecrm.cases.recompute import PolicyAdmin, PolicyBookUpdate, Recompute, scopes
from ecrm.cases.staff import Staff, StaffAdmin, StaffConfigUpdate
from ecrm.errors import Conflict
from pydantic import ValidationError

from tests.unit.cases.test_sla import at
from tests.unit.cases.world import AGENT, BOOK, World, targets

ADMIN = Caller(user_id="admin-1", email="root@corp.test", roles=frozenset({"admin"}))


class MemoryStaff:
    def __init__(self) -> None:
        self.people: dict[str, str] = {}
        self.stored = StaffConfig()
        self.writes = 0

    def remember(self, user_id, email, now):
        self.writes += 1
        self.people[user_id] = email

    def email_of(self, user_id):
        return self.people.get(user_id)

    def config(self):
        return self.stored

    def save_config(self, config, expected_version):
        if self.stored.version != expected_version:
            raise Conflict("staff")
        self.stored = config


class MemoryPolicies:
    def __init__(self, book: PolicyBook) -> None:
        self.view = PolicyBookView(version=0, book=book)

    def current_view(self):
        return self.view

    def save(self, view, expected_version):
        if self.view.version != expected_version:
            raise Conflict("policies")
        self.view = view


class Queue:
    def __init__(self) -> None:
        self.sent: list[RecomputeRequest] = []

    def enqueue(self, requests):
        self.sent += requests


# --- staff ----------------------------------------------------------------------------------------
def test_callers_are_remembered_once_per_process_and_their_address_is_found():
    world, store = World(), MemoryStaff()
    admin = StaffAdmin(store, world.clock)
    for _ in range(3):
        admin.remember(AGENT)
    admin.remember(Caller(user_id="x", email=None, roles=frozenset({"agent"})))  # no address: nothing
    assert store.writes == 1 and Staff(store, "fallback@corp.test").email_of("agent-1") == "ann@corp.test"
    admin.remember(Caller(user_id="agent-1", email="ann.new@corp.test", roles=frozenset({"agent"})))
    assert store.people["agent-1"] == "ann.new@corp.test"  # a changed address is written again


def test_admins_set_team_leads_and_management_against_a_version():
    world, store = World(), MemoryStaff()
    admin = StaffAdmin(store, world.clock)
    staff = Staff(store, "fallback@corp.test")
    assert staff.management() == ["fallback@corp.test"] and staff.team_lead("billing") is None
    update = StaffConfigUpdate(
        team_leads={"Billing": "Lea@Corp.test"}, management=["boss@corp.test"], expected_version=0
    )
    saved = admin.update(update)
    assert saved.version == 1 and staff.team_lead("billing") == "lea@corp.test"
    assert staff.management() == ["boss@corp.test"]
    with pytest.raises(Conflict):
        admin.update(update)  # made on version 0, which is gone
    assert store.stored.version == 1


def test_bad_staff_configuration_names_the_field():
    with pytest.raises(ValidationError) as info:
        StaffConfigUpdate.model_validate({"team_leads": {"billing": "not-mail"}, "expected_version": 0})
    assert info.value.errors()[0]["loc"] == ("team_leads", "billing")


def test_notices_for_an_unassigned_case_in_a_team_without_a_lead_go_to_the_fallback():
    world = World()
    staff = Staff(MemoryStaff(), "fallback@corp.test")
    mailer = CaseMailer(
        world.repo,
        world.requesters,
        staff,
        world.outbox,
        world.signer,
        world.clock,
        case_url="https://crm.test/cases/{case_id}",
        survey_url="https://help.test/csat",
        survey_ttl=timedelta(days=14),
    )
    case = world.open(team="nobody-leads-this", assignee_id=None)
    world.clock.at = at(1, 10)
    world.fire_due()
    sent = sum(mailer.handle(e) for e in world.bus.events if isinstance(e, CaseEvent))
    assert sent == 2 and {m.to for m in world.outbox.sent} == {"fallback@corp.test"}
    assert world.case(case.id).escalation_level == 1


# --- policy edits ---------------------------------------------------------------------------------
def _edited(book: PolicyBook, policy_id: str, **changes: object) -> PolicyBook:
    return PolicyBook(policies=tuple(p.model_copy(update=changes) if p.id == policy_id else p for p in book.policies))


def test_an_edit_of_one_priority_of_a_team_policy_replans_that_team_and_priority_only():
    new = _edited(BOOK, "billing-24x7", targets={**BOOK.policies[1].targets, "urgent": targets(0.25, 2)})
    assert [(r.priority, r.team, r.tag) for r in scopes(BOOK, new, 2)] == [("urgent", "billing", None)]


def test_an_edit_of_the_default_calendar_replans_every_priority_of_every_team():
    new = _edited(BOOK, "standard", warning_fraction=0.5)
    found = scopes(BOOK, new, 2)
    assert [(r.priority, r.team) for r in found] == [(p, None) for p in ("low", "normal", "high", "urgent")]
    assert {r.book_version for r in found} == {2}


def test_a_new_tag_policy_replans_the_cases_with_that_tag_and_an_unchanged_book_nothing():
    vip = SlaPolicy(id="vip", targets={"high": targets(1, 4)}, tag="vip")
    found = scopes(BOOK, PolicyBook(policies=(*BOOK.policies, vip)), 2)
    assert {(r.team, r.tag) for r in found} == {(None, "vip")} and len(found) == 4
    assert scopes(BOOK, BOOK, 2) == []


def test_an_admin_edit_is_stored_against_its_version_and_queues_the_replanning():
    world, store, queue = World(), MemoryPolicies(BOOK), Queue()
    admin = PolicyAdmin(store, queue, world.clock)
    new = _edited(BOOK, "standard", targets={**BOOK.policies[0].targets, "low": targets(8, 40)})
    view = admin.update(PolicyBookUpdate(book=new, expected_version=0), ADMIN)
    assert (view.version, view.updated_by, store.view.book) == (1, "admin-1", new)
    assert [r.priority for r in queue.sent] == ["low"]
    with pytest.raises(Conflict):
        admin.update(PolicyBookUpdate(book=BOOK, expected_version=0), ADMIN)
    assert len(queue.sent) == 1 and admin.get().version == 1


def test_a_policy_book_without_one_default_is_refused_naming_the_book():
    with pytest.raises(ValidationError) as info:
        PolicyBookUpdate.model_validate({"book": {"policies": []}, "expected_version": 0})
    assert info.value.errors()[0]["loc"][0] == "book"


def test_recompute_pages_through_the_scope_and_replans_only_matching_cases():
    world = World()
    urgent = [world.open(priority="urgent", tags=["vip"] if n % 2 else []) for n in range(45)]
    world.open(priority="normal", tags=["vip"])
    world.books.book = _edited(BOOK, "standard", targets={**BOOK.policies[0].targets, "urgent": targets(0.5, 4)})
    recompute = Recompute(world.repo, world.work)
    request: RecomputeRequest | None = RecomputeRequest(book_version=1, priority="urgent", tag="vip")
    pages = 0
    while request is not None:
        request = recompute.run(request)
        pages += 1
    assert pages == 3  # 45 urgent cases, 20 per page
    replanned = {c.id for c in urgent if world.case(c.id).version == 2}
    assert replanned == {c.id for c in urgent if "vip" in c.tags}
    assert all(world.case(i).next_deadline == at(1, 9.5) for i in replanned)  # 30 min first response now


def test_recompute_skips_cases_solved_meanwhile():
    world = World()
    case = world.open(priority="urgent")
    world.work.solve(case.id, AGENT)
    assert Recompute(world.repo, world.work).run(RecomputeRequest(book_version=1, priority="urgent")) is None
    assert world.case(case.id).version == 2
