"""integration: the complete GDPR export and the erasure, proven over every table the topology
declares, so a new capability (or a new kind of item) cannot be forgotten.

One person goes through every capability the way the product meets them: a form capture with
consent, a case with an agent's public reply, a campaign, an order and a redemption. Every value they
gave is a marker that appears nowhere else. Then:
- every item, in every table that may hold personal data, that names the contact (its id, address,
  address hash or a marker) is part of their export (the keys of the items the export was made of);
- after the erasure has reached every capability, no item in any table holds an address, a name, a
  phone number or a free text they gave.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from ecrm.campaigns.models import address_key
from ecrm.contact360.compose import contact360_api
from ecrm.contact360.settings import Contact360ApiSettings
from ecrm.names import Source
from ecrm.webhooks.catalogue import BY_NAME
from ecrm_infra import topology
from ecrm_local import outbox, resources

from tests.integration.campaigns_support import Campaigns, campaigns_stack
from tests.loyalty_support import order
from tests.webhook_receiver import receiver

EMAIL = "zoraida.quillfeather@example.org"
PERSONAL = {  # what the person gave: each must be gone after the erasure
    "first_name": "Zoraida",
    "last_name": "Quillfeather",
    "phone": "+49 30 5550199",
    "company": "Quincunx Widgets GmbH",
    "message": "Please call back about marker-message-7781",
}
CASE_TEXT = ("marker-subject-5150", "marker-description-3141 my address is Quillgasse 9")
REPLY = "marker-reply-2718 we called Zoraida back"
REWARD = "marker-reward-1618"
FORM = "application/x-www-form-urlencoded"


def _scan(table: str) -> list[dict[str, Any]]:
    # Scan is fine in a test: it is how we prove what the tables hold.
    db = boto3.resource("dynamodb").Table(table)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def every_item() -> Iterator[tuple[topology.Table, dict[str, Any]]]:
    """Every item of every table in the topology, with the table's declaration."""
    for table in topology.TABLES:
        for item in _scan(resources.physical_name(table.name)):
            yield table, item


def _text(item: dict[str, Any]) -> str:
    return json.dumps(item, default=str, ensure_ascii=False)


@pytest.fixture(scope="module")
def person() -> Iterator[tuple[Campaigns, str]]:
    """The person, through every capability (an endpoint receives every webhook type), and their
    contact id: built once for this module (the tier's most expensive setup). The tests read it; the
    erasure test, last in the file, erases it."""
    with campaigns_stack() as campaigns, receiver() as hook:
        stack = campaigns.stack
        every_type = {"url": hook.url, "event_types": sorted(BY_NAME)}
        assert stack.call("POST", "/webhooks", every_type, roles="admin").status == 201
        company = {"name": "Example Org Ltd", "domains": ["example.org"]}  # her address's domain
        assert stack.call("POST", "/companies", company, roles="agent").status == 201
        _journey(campaigns)
        captured = stack.call(
            "POST",
            "/contacts",
            {"email": EMAIL, **PERSONAL, "tags": ["vip"], "marketing_consent": True, "custom": {"shoe": "marker-42"}},
        )
        assert captured.status in (200, 201), captured.body
        cid = str(captured.json["id"])
        case = stack.call("POST", "/cases", {"email": EMAIL, "subject": CASE_TEXT[0], "description": CASE_TEXT[1]})
        case_id = case.json["id"]
        reply = stack.call("POST", f"/cases/{case_id}/comments", {"body": REPLY, "visibility": "public"}, roles="agent")
        assert reply.status == 201, reply.body
        campaigns.pump()
        (confirm_mail,) = [m for m in campaigns.mail(EMAIL) if m["subject"] == "Confirm your subscription"]
        token = parse_qs(urlsplit(next(u for u in outbox.links(confirm_mail) if "token=" in u)).query)["token"][0]
        assert stack.call("POST", "/contacts/confirm", {"token": token}).status == 200
        campaigns.pump()
        segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
        campaign = campaigns.campaign(campaigns.one_off_in(1), segment)
        campaigns.action(campaign, "schedule")
        campaigns.advance(3601)
        campaigns.pump()
        unsubscribe = campaigns.mail(EMAIL)[-1]["headers"]["List-Unsubscribe"].strip("<>").split(">")[0]
        one_click = parse_qs(urlsplit(unsubscribe).query)
        left = stack.call(
            "POST", "/unsubscribe", "List-Unsubscribe=One-Click", FORM, query={"token": one_click["token"][0]}
        )
        assert left.status == 200, left.body
        campaigns.put_event(Source.SHOP, "OrderPlaced.v1", order("marker-order-1", contact_id=cid))
        campaigns.pump()
        redeemed = stack.call(
            "POST",
            f"/loyalty/members/{cid}/redemptions",
            {"points": 10, "reference": REWARD},
            roles="agent",
            headers={"Idempotency-Key": "marker-redemption-1"},
        )
        assert redeemed.status == 201, redeemed.body
        campaigns.pump()
        yield campaigns, cid


def _journey(campaigns: Campaigns) -> None:
    """A live journey she enters when confirmed: a mail, then a month's wait (progress, a mail claim)."""
    steps = [
        {"id": "hello", "type": "send_mail", "template_id": campaigns.template(), "topic": "newsletter"},
        {"id": "a-month", "type": "wait", "duration": {"days": 30}},
    ]
    body = {"definition": {"name": "Welcome", "entry": {"event": "ConsentConfirmed.v1"}, "steps": steps}}
    created = campaigns.stack.call("POST", "/journeys", body, roles="marketer")
    assert created.status == 201, created.body
    started = campaigns.stack.call("POST", f"/journeys/{created.json['journey']['id']}/start", roles="marketer")
    assert started.status == 200, started.body


def _names_the_person(cid: str, item: dict[str, Any]) -> bool:
    text = _text(item)
    markers = (cid, EMAIL, address_key(EMAIL), *PERSONAL.values(), *CASE_TEXT, REPLY, REWARD)
    return any(marker in text for marker in markers)


def test_every_item_naming_the_contact_in_every_table_is_in_their_export(person):
    campaigns, cid = person
    answer = campaigns.stack.call("GET", f"/contacts/{cid}/export", roles="admin")
    assert answer.status == 200, answer.body
    held = answer.json["held"]
    # every capability that keeps something about a contact contributed (the fixture reached each)
    assert {cap for cap, sections in held.items() if sections} == {
        "contacts",
        "cases",
        "campaigns",
        "loyalty",
        "contact360",
        "webhooks",
        "journeys",
    }
    assert [p["status"] for p in held["journeys"]["progress"]] == ["waiting"]
    assert [m["status"] for m in held["journeys"]["mails"]] == ["sent"]
    delivered = {d["payload"]["type"] for d in held["webhooks"]["deliveries"]}  # the body, read back
    assert {"contact.captured", "case.created", "points.earned"} <= delivered
    assert {"campaign_sends", "segment_index", "segment_profile", "preferences"} <= set(held["campaigns"])
    assert held["campaigns"]["campaign_sends"][0]["status"] == "sent"
    timeline = {e["entry"]["kind"] for e in held["contact360"]["timeline"]}  # SES's events reached it too
    assert {"contact.captured", "case.commented", "mail.sent", "mail.delivered", "points.redeemed"} <= timeline
    assert len(held["contact360"]["company"]) == 2  # her link and her place in the company's list
    dossier = contact360_api(Contact360ApiSettings.from_env()).exports.dossier(cid)
    exported = {h.key for found in dossier.holdings.values() for h in found}
    naming = [
        (t.name, (i["pk"], i["sk"])) for t, i in every_item() if not t.no_personal_data and _names_the_person(cid, i)
    ]
    assert len(naming) >= 12  # profile, tags, consent, case and its lines, send, member, ledger, order...
    missing = [(table, key) for table, key in naming if key not in exported]
    assert not missing, f"held about the contact but not in their export: {missing}"
    # the JSON a person reads carries what they gave, in every capability
    text = _text(held)
    for value in (EMAIL, *PERSONAL.values(), *CASE_TEXT, REPLY, REWARD, "marker-order-1"):
        assert value in text, value


def test_the_export_as_a_zip_holds_the_document_and_every_section_as_csv_and_json(person):
    campaigns, cid = person
    answer = campaigns.stack.call(
        "GET", f"/contacts/{cid}/export", roles="admin", query={"format": "zip"}, headers={"Accept": "application/zip"}
    )
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="contact-{cid}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer.body)))
    names = set(archive.namelist())
    assert {"export.json", "README.txt", "cases/case_comments.csv", "loyalty/ledger.json"} <= names
    document = json.loads(archive.read("export.json"))
    assert document["contact_id"] == cid
    for capability, sections in document["held"].items():
        for section, records in sections.items():
            assert json.loads(archive.read(f"{capability}/{section}.json")) == records
            rows = list(csv.DictReader(io.StringIO(archive.read(f"{capability}/{section}.csv").decode("utf-8-sig"))))
            assert len(rows) == len(records), f"{capability}/{section}"
    (profile,) = csv.DictReader(io.StringIO(archive.read("contacts/profile.csv").decode("utf-8-sig")))
    assert (profile["contact.email"], profile["contact.first_name"]) == (EMAIL, PERSONAL["first_name"])
    assert "contacts/profile.csv (1 records)" in archive.read("README.txt").decode()


def test_the_export_of_an_unknown_contact_is_404_and_bad_input_is_named(person):
    campaigns, _ = person
    unknown = campaigns.stack.call("GET", f"/contacts/{'0' * 32}/export", roles="admin")
    assert unknown.status == 404
    bad = campaigns.stack.call("GET", f"/contacts/{'0' * 32}/export", roles="admin", query={"format": "xml"})
    assert bad.status == 422 and "format" in bad.body
    for role in ("agent", "marketer"):
        assert campaigns.stack.call("GET", f"/contacts/{'0' * 32}/export", roles=role).status == 403


def test_related_records_show_each_capability_to_the_roles_that_may_read_it(person):
    campaigns, cid = person
    as_admin = campaigns.stack.call("GET", f"/contacts/{cid}/related", roles="admin").json
    (case,) = as_admin["cases"]
    assert (case["subject"], case["status"]) == (CASE_TEXT[0], "open")
    assert as_admin["loyalty"]["balance"] > 0
    (mail,) = as_admin["campaigns"]
    assert mail["status"] == "sent" and mail["delivered_at"] and mail["unsubscribed_at"]
    assert as_admin["hidden"] == []
    as_agent = campaigns.stack.call("GET", f"/contacts/{cid}/related", roles="agent").json
    assert (as_agent["campaigns"], as_agent["hidden"]) == (None, ["campaigns"]) and as_agent["cases"]
    as_marketer = campaigns.stack.call("GET", f"/contacts/{cid}/related", roles="marketer").json
    assert (as_marketer["cases"], as_marketer["hidden"]) == (None, ["cases"]) and as_marketer["campaigns"]
    nobody = campaigns.stack.call("GET", f"/contacts/{'0' * 32}/related", roles="admin").json
    assert (nobody["cases"], nobody["loyalty"], nobody["campaigns"]) == ([], None, [])


def test_after_the_erasure_no_table_holds_anything_the_person_gave(person):
    # Last in the file: it erases the module's person, whom the tests above only read.
    campaigns, cid = person
    assert campaigns.stack.call("DELETE", f"/contacts/{cid}", roles="admin").status == 204
    campaigns.pump()
    assert campaigns.stack.call("DELETE", f"/contacts/{cid}", roles="admin").status == 204  # a retried erasure
    campaigns.pump()
    given = (EMAIL, *PERSONAL.values(), *CASE_TEXT, REPLY, REWARD, "Quillgasse", "Zoraida", "marker-42")
    left = [(t.name, i["pk"], i["sk"], v) for t, i in every_item() for v in given if v in _text(i)]
    assert not left, f"personal data left after the erasure: {left}"
    assert not [i for t, i in every_item() if t.name == "Journeys" and cid in str(i["pk"])]  # progress, claims
    # what is left names the contact by its random id only, and their export says so
    export = campaigns.stack.call("GET", f"/contacts/{cid}/export", roles="admin").json
    assert export["erased"] is True and export["held"]["contacts"]["erasure"]
