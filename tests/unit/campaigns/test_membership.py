"""unit: the segment membership projection follows contact changes, tiers, activity and erasure."""

from datetime import timedelta

import pytest
from ecrm.campaigns.membership import MembershipService
from ecrm.errors import Conflict

from tests.unit.campaigns.fakes import MemoryContacts, MemoryIndex
from tests.unit.campaigns.world import T0, make_contact


@pytest.fixture
def parts():
    contacts = MemoryContacts()
    index = MemoryIndex(contacts)
    return contacts, index, MembershipService(contacts, index)


def test_keys_follow_the_contact(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1, tags=("vip", "beta"), country="DE"))
    assert service.refresh(ann.id) == {"SEG#tag#vip", "SEG#tag#beta", "SEG#country#DE", "SEG#consent#confirmed"}
    contacts.add(ann.model_copy(update={"tags": ["beta"]}))
    assert service.refresh(ann.id) == {"SEG#tag#beta", "SEG#country#DE", "SEG#consent#confirmed"}
    assert index.partitions["SEG#tag#vip"] == {}  # the old item is gone, not left behind
    assert len(index.partitions["SEG#tag#beta"]) == 1


def test_tier_is_kept_across_contact_updates(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1))
    service.set_tier(ann.id, "Gold")
    contacts.add(ann.model_copy(update={"company": "New Co"}))
    assert "SEG#tier#gold" in service.refresh(ann.id)
    assert "SEG#tier#gold" not in service.set_tier(ann.id, None)


def test_activity_only_moves_forward_and_re_sorts(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1))
    service.refresh(ann.id, activity=T0)
    service.refresh(ann.id, activity=T0 - timedelta(days=300))  # a late, older open
    assert index.load(ann.id).member.last_activity == T0
    (key,) = index.partitions["SEG#consent#confirmed"]
    assert key.startswith("2026-11-24T08:00:00Z#")


def test_erasure_removes_every_item_and_stale_events_do_not_bring_them_back(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1, tags=("vip",)))
    service.refresh(ann.id)
    contacts.contacts.pop(ann.id)
    service.erase(ann.id)
    assert service.refresh(ann.id) == frozenset()  # a ContactUpdated arriving after the erasure
    assert index.load(ann.id) is None and all(not items for items in index.partitions.values())


def test_unchanged_contact_writes_nothing(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1))
    service.refresh(ann.id)
    version = index.load(ann.id).version
    service.refresh(ann.id)
    assert index.load(ann.id).version == version


def test_concurrent_writer_is_retried_then_reported(parts, monkeypatch):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1))
    real_store, calls = index.store, []

    def racing_store(*args):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("someone else wrote first")
        return real_store(*args)

    monkeypatch.setattr(index, "store", racing_store)
    assert service.refresh(ann.id)
    assert len(calls) == 2
    monkeypatch.setattr(index, "store", lambda *a: (_ for _ in ()).throw(Conflict("always")))
    contacts.add(ann.model_copy(update={"tags": ["x"]}))
    with pytest.raises(Conflict, match="kept changing"):
        service.refresh(ann.id)


def test_a_suppressed_address_leaves_every_plan_and_stays_out(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1, tags=("vip",)))
    assert "SEG#consent#confirmed" in service.refresh(ann.id)
    keys = service.suppress(ann.id)
    assert "SEG#consent#confirmed" not in keys and "SEG#tag#vip" in keys
    contacts.add(ann.model_copy(update={"company": "New Co"}))  # a later contact event keeps it out
    assert "SEG#consent#confirmed" not in service.refresh(ann.id)
    assert index.load(ann.id).member.suppressed


def test_erasure_also_removes_the_preferences(parts):
    from ecrm.campaigns.models import Preferences

    from tests.unit.campaigns.fakes import MemoryPreferences

    contacts, index, service = parts
    index.preferences = MemoryPreferences(contacts)
    ann = contacts.add(make_contact(1))
    service.refresh(ann.id)
    index.preferences.save(Preferences(contact_id=ann.id, unsubscribed=frozenset({"offers"}), version=1), 0)
    contacts.contacts.pop(ann.id)
    service.erase(ann.id)
    assert index.preferences.items == {} and index.load(ann.id) is None


def _company(contact_id: str, company: str | None, version: int, since_days: int, **attributes: str) -> dict:
    return {
        "occurred_at": (T0 + timedelta(days=since_days)).isoformat(),
        "contact_id": contact_id,
        "company_id": company,
        "company_version": version,
        "attributes": attributes,
        "since": (T0 + timedelta(days=since_days)).isoformat(),
        "reason": "linked" if company else "unlinked",
    }


def test_the_newest_company_news_wins_whatever_order_it_arrives_in(parts):
    contacts, index, service = parts
    ann = contacts.add(make_contact(1))
    acme, beta = "a" * 32, "b" * 32
    told = "ContactCompanyChanged.v1"
    news = [
        _company(ann.id, acme, 1, 0, industry="Retail"),  # joined Acme
        _company(ann.id, acme, 2, 0, industry="Software", size="50-200"),  # Acme's attributes changed
        _company(ann.id, beta, 1, 5, industry="Banking"),  # moved to Beta five days later
    ]
    for detail in reversed(news):  # the bus may deliver them in any order, and twice
        service.on_event(told, detail)
    service.on_event(told, news[1])
    keys = {k for k in service.refresh(ann.id) if "company" in k}
    assert keys == {f"SEG#companyid#{beta}", "SEG#company#industry=banking"}
    service.on_event(told, _company(ann.id, None, 0, 6))  # left Beta
    assert not {k for k in service.refresh(ann.id) if "company" in k}
    assert index.partitions[f"SEG#companyid#{beta}"] == {}
    contacts.add(ann.model_copy(update={"tags": ["vip"]}))  # a contact change keeps the company news
    service.on_event(told, _company(ann.id, acme, 3, 7, industry="Retail"))
    assert "SEG#company#industry=retail" in service.refresh(ann.id)
