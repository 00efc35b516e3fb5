"""integration: companies. A company owns e-mail domains (one owner each); a captured contact on one
is linked to it once, however often the event comes; staff may link by hand, and a domain never
moves that link back; the company's view shows its contacts, their open cases (to roles that read
cases) and their order totals; an erased contact leaves. Bad input is named and writes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from ecrm.contact360.names import Resource
from ecrm_local import outbox, resources

from tests.integration.campaigns_support import Campaigns, campaigns_stack
from tests.loyalty_support import order, publish
from tests.support import Stack

ACME = {"name": "Acme Ltd", "domains": ["acme.example", "ACME-group.example"], "attributes": {"industry": "tools"}}
LINKS = Resource.COMPANY_LINK_QUEUE


def _create(stack: Stack, body: dict[str, Any]) -> Any:
    return stack.call("POST", "/companies", body, roles="marketer")


def _items() -> list[dict[str, Any]]:
    db = boto3.resource("dynamodb").Table(resources.physical_name(Resource.CONTACT360_TABLE))
    return [i for i in db.scan()["Items"] if not str(i["pk"]).startswith("TIMELINE#")]


def _capture(stack: Stack, email: str) -> str:
    return str(stack.call("POST", "/contacts", {"email": email}).json["id"])


def test_a_company_owns_its_domains_and_bad_input_is_named_and_writes_nothing(stack: Stack):
    created = _create(stack, ACME)
    assert created.status == 201, created.body
    company = created.json
    assert company["domains"] == ["acme-group.example", "acme.example"] and company["version"] == 1
    found = stack.call("GET", "/companies", query={"domain": "ACME.example"}, roles="agent")
    assert found.status == 200 and found.json["id"] == company["id"]
    before = _items()
    taken = _create(stack, {"name": "Other", "domains": ["new.example", "acme.example"]})
    assert taken.status == 409 and "acme.example" in taken.json["message"]
    free = _create(stack, {"name": "Gmail fans", "domains": ["gmail.com"]})
    assert free.status == 400 and free.json["errors"][0]["field"] == "domains"
    bad = _create(stack, {"name": "X", "domains": ["not a domain"]})
    assert bad.status == 422 and bad.json["errors"][0]["field"].startswith("domains")
    assert _create(stack, {"name": "X", "colour": "red"}).json["errors"][0]["field"] == "colour"
    assert _items() == before  # nothing half-written: "new.example" was not claimed
    assert stack.call("GET", "/companies", query={"domain": "new.example"}, roles="agent").status == 404
    stale = {**ACME, "expected_version": 7}
    assert stack.call("PUT", f"/companies/{company['id']}", stale, roles="agent").status == 409
    moved = stack.call("PUT", f"/companies/{company['id']}", {**ACME, "domains": ["acme.example"]}, roles="agent")
    assert moved.status == 200 and moved.json["version"] == 2
    assert _create(stack, {"name": "Group", "domains": ["acme-group.example"]}).status == 201  # released


def test_captured_contacts_join_by_domain_once_and_the_view_shows_cases_and_orders(stack: Stack):
    acme = _create(stack, ACME).json["id"]
    ann = _capture(stack, "ann@acme.example")
    _capture(stack, "bob@gmail.com")  # a mailbox provider's address belongs to no company
    stack.relay()
    answers = stack.deliver(LINKS, times=2)  # every event twice: one link each
    assert all(a == {"batchItemFailures": []} for a in answers)
    case = stack.call("POST", "/cases", {"email": "ann@acme.example", "subject": "Broken", "description": "x"})
    publish(("OrderPlaced.v1", order("o-1", amount=4_000, contact_id=ann)))
    stack.pump()
    view = stack.call("GET", f"/companies/{acme}", roles="agent").json
    assert [(m["contact_id"], m["linked_by"]) for m in view["contacts"]] == [(ann, "domain")]
    assert [c["case_id"] for c in view["open_cases"]] == [case.json["id"]] and view["complete"] is True
    assert view["order_totals"] == [{"currency": "EUR", "orders": 1, "total_minor": 4000, "refunded_minor": 0}]
    assert stack.call("GET", f"/companies/{acme}", roles="marketer").json["open_cases"] is None
    members = [i for i in _items() if str(i["sk"]).startswith("CONTACT#") or str(i["pk"]).startswith("LINK#")]
    assert len(members) == 2  # one member item, one link: the duplicate changed nothing


def test_a_staff_link_moves_the_contact_and_no_domain_moves_it_back(stack: Stack):
    acme = _create(stack, ACME).json["id"]
    other = _create(stack, {"name": "Other", "domains": ["other.example"]}).json["id"]
    ann = _capture(stack, "ann@acme.example")
    stack.pump()
    linked = stack.call("POST", f"/companies/{other}/contacts", {"contact_id": ann}, roles="agent")
    assert linked.status == 200 and linked.json["linked_by"] == "staff"
    assert stack.call("GET", f"/companies/{acme}", roles="agent").json["contacts"] == []
    _capture(stack, "ann@acme.example")  # she posts a form again
    stack.pump()
    assert [m["contact_id"] for m in stack.call("GET", f"/companies/{other}", roles="agent").json["contacts"]] == [ann]
    assert stack.call("DELETE", f"/companies/{acme}/contacts/{ann}", roles="agent").status == 404  # not there
    assert stack.call("DELETE", f"/companies/{other}/contacts/{ann}", roles="agent").status == 204
    assert stack.call("GET", f"/companies/{other}", roles="agent").json["contacts"] == []
    assert stack.call("POST", f"/companies/{other}/contacts", {"contact_id": "0" * 32}, roles="agent").status == 404
    assert stack.call("POST", f"/companies/{'0' * 32}/contacts", {"contact_id": ann}, roles="agent").status == 404
    bad = stack.call("POST", f"/companies/{other}/contacts", {"contact_id": "x", "why": 1}, roles="agent")
    assert bad.status == 422 and {e["field"] for e in bad.json["errors"]} == {"contact_id", "why"}


def test_an_erased_contact_leaves_their_company(stack: Stack):
    acme = _create(stack, ACME).json["id"]
    ann = _capture(stack, "ann@acme.example")
    stack.pump()
    assert stack.call("GET", f"/companies/{acme}", roles="agent").json["contacts"]
    assert stack.call("DELETE", f"/contacts/{ann}", roles="admin").status == 204
    stack.pump()
    assert stack.call("GET", f"/companies/{acme}", roles="agent").json["contacts"] == []
    assert [i["pk"] for i in _items() if ann in str(i)] == []


def _confirmed(campaigns: Campaigns, email: str) -> str:
    """A contact captured with marketing consent, confirmed through the link in their mail."""
    stack = campaigns.stack
    cid = str(stack.call("POST", "/contacts", {"email": email, "marketing_consent": True}).json["id"])
    campaigns.pump()
    (mail,) = [m for m in campaigns.mail(email) if m["subject"] == "Confirm your subscription"]
    token = parse_qs(urlsplit(next(u for u in outbox.links(mail) if "token=" in u)).query)["token"][0]
    assert stack.call("POST", "/contacts/confirm", {"token": token}).status == 200
    return cid


def test_segments_target_company_attributes_and_follow_their_changes():
    with campaigns_stack() as campaigns:
        stack = campaigns.stack

        def count(attribute: str, *values: str) -> tuple[int, list[str]]:
            rule = {"kind": "company", "attribute": attribute, "any_of": list(values)}
            answer = stack.call("POST", "/segments/preview", {"rules": {"include": [rule]}}, roles="marketer")
            assert answer.status == 200, answer.body
            return answer.json["count"], answer.json["driving_partitions"]

        acme = _create(stack, {**ACME, "attributes": {"industry": "Retail", "size": "50-200"}}).json
        ann = _confirmed(campaigns, "ann@acme.example")
        _confirmed(campaigns, "bob@other.example")  # no company
        campaigns.pump()
        assert count("industry", "retail") == (1, ["SEG#company#industry=retail"])
        assert count("size", "50-200")[0] == 1 and count("industry", "software")[0] == 0
        moved = {**ACME, "attributes": {"industry": "Software"}, "expected_version": 1}
        assert stack.call("PUT", f"/companies/{acme['id']}", moved, roles="agent").status == 200
        campaigns.pump()
        assert (count("industry", "retail")[0], count("industry", "Software")[0], count("size", "50-200")[0]) == (
            0,
            1,
            0,
        )
        by_id = {"kind": "company_id", "any_of": [acme["id"]]}
        answer = stack.call("POST", "/segments/preview", {"rules": {"include": [by_id]}}, roles="marketer")
        assert answer.json["count"] == 1
        assert stack.call("DELETE", f"/companies/{acme['id']}/contacts/{ann}", roles="agent").status == 204
        campaigns.pump()
        assert count("industry", "software")[0] == 0
        bad = {"kind": "company", "attribute": "Industry!", "any_of": ["x"]}
        refused = stack.call("POST", "/segments/preview", {"rules": {"include": [bad]}}, roles="marketer")
        assert refused.status == 422 and "rules.include.0.company.attribute" in str(refused.json["errors"])
