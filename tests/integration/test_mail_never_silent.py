"""integration: every Unicode line break and control character, through every mail path, under moto.

Header fields refuse them at the API (ecrm.types.HeaderText, Email: 422 naming the field). Text
stored before that type existed still reaches the mail builders: each mail is then either sent
with a safe header (the character became a space) or, when the recipient's address itself holds
one, recorded failed with its reason. Never a skipped claim, never a retry loop into the DLQ."""

from __future__ import annotations

import email
import email.policy
import json
import unicodedata
from datetime import datetime, timedelta
from typing import Any, cast

import boto3
import pytest
from ecrm.campaigns import names as campaign_names
from ecrm.cases.names import Resource as CaseResource
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.contacts.names import Resource as ContactResource
from ecrm.events import ContactCaptured
from ecrm.names import Env

from tests.integration.campaigns_support import Campaigns
from tests.support import Stack

LINE_BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in LINE_BREAKS]
FORMAT = ["\u200b", "\u200e", "\u202e", "\u2066", "\ufeff"]  # invisible, bidi marks and overrides, BOM
UNSAFE = LINE_BREAKS + CONTROLS + FORMAT
# Stored data through each mail path: one of each kind (the adapter's sanitizer is one function,
# proven on every character in the unit tier: tests/unit/test_header_text.py); the edge's refusal
# above is checked on all of them, as it is cheap.
STORED_UNSAFE = ["\n", "\r\n", "\x85", "\u2028", "\x00", "\x1b", "\x7f", "\x9b", "\u200b", "\u202e", "\ufeff"]
IDS = [f"U+{ord(ch[0]):04X}" + ("+LF" if len(ch) > 1 else "") for ch in UNSAFE]


def name(ch: str) -> str:
    return unicodedata.name(ch[0], f"U+{ord(ch[0]):04X}")


def safe_header(value: str) -> bool:
    return all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in value)


def sent() -> list[email.message.EmailMessage]:
    from moto.ses.models import ses_backends

    raw = [m.raw_data for m in ses_backends["123456789012"]["us-east-1"].sent_messages]
    return [email.message_from_string(r, policy=email.policy.default) for r in raw]


def rewrite(stack: Stack, env_var: str, pk: str, sk: str, attribute: str, **changes: Any) -> None:
    """What a row written before the header-safe type looks like: the stored model, changed in place."""
    table = boto3.resource("dynamodb").Table(stack.env[env_var])
    row = table.get_item(Key={"pk": pk, "sk": sk})["Item"]
    row[attribute] = {**cast(dict[str, Any], row[attribute]), **changes}
    table.put_item(Item=row)


def mail_claims(stack: Stack, env_var: str) -> list[dict[str, Any]]:
    return [i for i in stack.table_items(env_var) if str(i["sk"]).startswith("MAIL#")]


def assert_settled(claims: list[dict[str, Any]]) -> None:
    assert claims
    for claim in claims:
        assert claim["status"] in ("sent", "failed"), claim  # never left "sending"
        if claim["status"] == "failed":
            assert claim["reason"], claim


def delivered_cleanly(answers: list[Any]) -> None:
    assert answers and all(a["batchItemFailures"] == [] for a in answers), answers


# -- the mail log's end states, in DynamoDB ------------------------------------------------------
def test_a_failed_claim_is_never_taken_again_and_a_release_frees_only_its_own_claim(stack):
    log = DynamoContacts(boto3.client("dynamodb"), stack.env[Env.CONTACTS_TABLE])
    now = SYSTEM_CLOCK.now()
    assert log.claim_mail("c1", "k", now)
    log.mark_mail_failed("c1", "k", "the recipient's address holds a control character", now)
    assert not log.claim_mail("c1", "k", now + timedelta(days=1))  # not even once its lease is long over
    (failed,) = mail_claims(stack, "CONTACTS_TABLE_NAME")
    assert (failed["status"], failed["reason"]) == ("failed", "the recipient's address holds a control character")
    assert log.claim_mail("c1", "other", now)
    log.release_mail("c1", "other", now - timedelta(seconds=1))  # not ours: stays
    assert not log.claim_mail("c1", "other", now)
    log.release_mail("c1", "other", now)
    assert log.claim_mail("c1", "other", now)  # the retry claims at once


# -- the API refuses them in every header field ------------------------------------------------
CASE = {"email": "ann@example.com", "subject": "Printer on fire", "description": "It smokes."}
TEMPLATE = {"name": "T", "subject": "Hi", "html": "<p>{{ unsubscribe_url }}</p>", "text": "{{ unsubscribe_url }}"}
HEADER_FIELDS = [
    ("POST", "/cases", None, CASE, "subject"),
    ("POST", "/cases", None, CASE, "first_name"),
    ("POST", "/cases", None, CASE, "email"),
    ("POST", "/contacts", None, {"email": "ann@example.com"}, "first_name"),
    ("POST", "/contacts", None, {"email": "ann@example.com"}, "last_name"),
    ("POST", "/contacts", None, {"email": "ann@example.com"}, "company"),
    ("POST", "/contacts", None, {"email": "ann@example.com"}, "email"),
    ("POST", "/contacts", None, {"email": "ann@example.com"}, "custom.country"),
    (
        "POST",
        "/cases/agent",
        "agent",
        {"requester_email": "ann@example.com", "subject": "S", "description": "D"},
        "subject",
    ),
    (
        "POST",
        "/cases/agent",
        "agent",
        {"requester_email": "ann@example.com", "subject": "S", "description": "D"},
        "requester_first_name",
    ),
    ("POST", "/templates", "marketer", TEMPLATE, "subject"),
    ("POST", "/templates", "marketer", TEMPLATE, "name"),
]


@pytest.mark.parametrize(
    ("method", "path", "roles", "base", "field"), HEADER_FIELDS, ids=[f"{p} {f}" for _, p, _, _, f in HEADER_FIELDS]
)
def test_every_header_field_refuses_every_line_break_and_control_character(stack, method, path, roles, base, field):
    for ch in UNSAFE:
        body: dict[str, Any] = dict(base)
        if field == "email" or field.endswith("_email"):
            body[field] = f"nul{ch}x@example.com"
        elif field.startswith("custom."):
            body["custom"] = {field.split(".")[1]: f"D{ch}E"}
        else:
            body[field] = f"Printer{ch}on fire"
        answer = stack.call(method, path, body, roles=roles)
        assert answer.status == 422, (name(ch), answer.status, answer.body)
        assert field in [e["field"] for e in answer.json["errors"]], (name(ch), answer.body)
    assert stack.call(method, path, base, roles=roles).status in (200, 201)  # the clean body is fine


def test_the_nul_address_of_the_issue_is_refused_and_no_mail_goes_out(stack):
    answer = stack.call("POST", "/cases", {**CASE, "email": "nul\u0000@example.com"})
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "email"
    stack.pump()
    assert sent() == []


# -- stored data through every mail path ---------------------------------------------------------
def test_consent_mail_to_an_address_no_header_can_hold_is_recorded_failed_not_lost(stack):
    ids = {}
    for n, ch in enumerate(STORED_UNSAFE):
        created = stack.call("POST", "/contacts", {"email": f"c{n}@example.com", "marketing_consent": True})
        ids[ch] = created.json["id"]
        rewrite(stack, "CONTACTS_TABLE_NAME", f"CONTACT#{ids[ch]}", "PROFILE", "contact", email=f"c{n}{ch}@example.com")
    clean = stack.call("POST", "/contacts", {"email": "clean@example.com", "marketing_consent": True}).json["id"]
    delivered_cleanly(stack.deliver(ContactResource.CONSENT_MAIL_QUEUE))
    claims = {i["pk"].removeprefix("CONTACT#"): i for i in mail_claims(stack, "CONTACTS_TABLE_NAME")}
    assert_settled(list(claims.values()))
    for ch, contact_id in ids.items():
        assert claims[contact_id]["status"] == "failed", name(ch)
        assert "address" in claims[contact_id]["reason"]
    assert claims[clean]["status"] == "sent"
    assert [m["To"] for m in sent()] == ["clean@example.com"]
    delivered = stack.deliver(ContactResource.CONSENT_MAIL_QUEUE)
    assert delivered == []  # nothing left to retry: the failures are settled, not looping


def _open_case(stack: Stack, n: int, ch: str) -> str:
    cid = str(stack.call("POST", "/cases", {**CASE, "email": f"r{n}@example.com", "priority": "urgent"}).json["id"])
    rewrite(stack, "CASES_TABLE_NAME", f"CASE#{cid}", "CASE", "case", subject=f"Printer{ch}on fire")
    return cid


def test_case_mail_with_a_stored_subject_holding_any_of_them_goes_out_with_a_safe_subject(stack):
    cases = {ch: _open_case(stack, n, ch) for n, ch in enumerate(STORED_UNSAFE)}
    delivered_cleanly(stack.deliver(CaseResource.CASE_MAIL_QUEUE))  # acknowledgements
    for cid in cases.values():
        reply = {"body": "We are on it.", "visibility": "public"}
        assert stack.call("POST", f"/cases/{cid}/comments", reply, roles="agent").status == 201
    delivered_cleanly(stack.deliver(CaseResource.CASE_MAIL_QUEUE))  # public replies
    warnings = [
        min(s["at"] for s in stack.call("GET", f"/cases/{cid}", roles="agent").json["sla_steps"])
        for cid in cases.values()
    ]
    SYSTEM_CLOCK.advance((datetime.fromisoformat(max(warnings)) - SYSTEM_CLOCK.now()).total_seconds() + 1)
    stack.pump()  # SLA warnings (escalation notices), each through the mail queue
    for cid in cases.values():
        assert stack.call("POST", f"/cases/{cid}/solve", {}, roles="agent").status == 200
    delivered_cleanly(stack.deliver(CaseResource.CASE_MAIL_QUEUE))  # surveys
    by_case: dict[str, list[str]] = {}
    for mail in sent():
        assert all(safe_header(str(mail[h])) for h in ("To", "Subject", "X-Case-Reference")), mail["Subject"]
        by_case.setdefault(str(mail["X-Case-Reference"]), []).append(" ".join(str(mail["Subject"]).split()))
    for ch, cid in cases.items():
        subjects = by_case.get(cid[:8], [])
        assert any(s.startswith("We received your request: Printer on fire") for s in subjects), (name(ch), subjects)
        assert any(s.startswith("Re: Printer on fire") for s in subjects), (name(ch), subjects)
        assert any("SLA warning" in s for s in subjects), (name(ch), subjects)
        assert any(s.startswith("How did we do?") for s in subjects), (name(ch), subjects)
    claims = mail_claims(stack, "CASES_TABLE_NAME")
    assert_settled(claims)
    assert {c["status"] for c in claims} == {"sent"}


def test_case_mail_to_a_stored_address_no_header_can_hold_is_recorded_failed(stack):
    cases = {}
    for n, ch in enumerate(STORED_UNSAFE):
        created = stack.call("POST", "/cases", {**CASE, "email": f"r{n}@example.com"})
        cases[ch] = created.json["id"]
        requester = next(i for i in stack.table_items() if i["pk"] == f"EMAIL#r{n}@example.com")["contact_id"]
        rewrite(
            stack, "CONTACTS_TABLE_NAME", f"CONTACT#{requester}", "PROFILE", "contact", email=f"r{n}{ch}@example.com"
        )
    delivered_cleanly(stack.deliver(CaseResource.CASE_MAIL_QUEUE))
    claims = {c["pk"].removeprefix("CASE#"): c for c in mail_claims(stack, "CASES_TABLE_NAME")}
    assert_settled(list(claims.values()))
    for ch, cid in cases.items():
        assert (claims[cid]["sk"], claims[cid]["status"]) == ("MAIL#ack", "failed"), name(ch)
    assert sent() == []
    assert stack.deliver(CaseResource.CASE_MAIL_QUEUE) == []  # settled: nothing comes back


def test_campaign_send_sanitises_stored_names_and_counts_undeliverable_addresses_as_failed(campaigns: Campaigns):
    named = [campaigns.contact(n + 1, tags=("vip",), first_name=f"Ann{ch}Lee") for n, ch in enumerate(STORED_UNSAFE)]
    broken = []
    for n, ch in enumerate(("\x00", "\u2028", "\x85")):
        contact = campaigns.contact(500 + n, tags=("vip",), announce=False)
        legacy = contact.model_copy(update={"email": f"b{n}{ch}@example.com"})
        rewrite(campaigns.stack, Env.CONTACTS_TABLE, f"CONTACT#{contact.id}", "PROFILE", "contact", email=legacy.email)
        campaigns.publish(ContactCaptured(occurred_at=SYSTEM_CLOCK.now(), contact_id=contact.id, tags=["vip"]))
        broken.append(contact)
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump()
    mails = campaigns.mail()
    assert sorted(m["to"][0] for m in mails) == sorted(c.email for c in named)
    for mail in mails:
        assert safe_header(mail["subject"]) and " ".join(mail["subject"].split()) == "News for Ann Lee", mail["subject"]
    stats = campaigns.stats(cid)
    assert (stats["targeted"], stats["sent"], stats["failed"]) == (len(named) + 3, len(named), 3)
    assert all(r["batchItemFailures"] == [] for fn, r in campaigns.invocations if fn == "campaign_sender")
    assert campaigns.queued(campaign_names.Resource.CAMPAIGN_SEND_QUEUE) == []


def test_a_loyalty_expiry_warning_to_an_address_no_header_can_hold_is_recorded_failed(stack):
    from ecrm.loyalty.ledger import expires_at, lot_for
    from ecrm.loyalty.programme_versions import DEFAULT

    from tests.integration.test_loyalty_upkeep import customer, travel

    members = {}
    for n, ch in enumerate(STORED_UNSAFE):
        members[ch] = customer(stack, f"m{n:03d}@example.com", 1_000)
        rewrite(stack, "CONTACTS_TABLE_NAME", f"CONTACT#{members[ch]}", "PROFILE", "contact", email=f"m{n}{ch}@x.com")
    clean = customer(stack, "clean@example.com", 1_000)
    warning = expires_at(lot_for(SYSTEM_CLOCK.now()), DEFAULT.expiry_months) - DEFAULT.warn_before
    travel(warning + timedelta(hours=1))  # asserts every timer's batch went through without a failure
    claims = {c["pk"].removeprefix("CONTACT#"): c for c in mail_claims(stack, "CONTACTS_TABLE_NAME")}
    assert_settled(list(claims.values()))
    for ch, member in members.items():
        assert claims[member]["status"] == "failed" and "address" in claims[member]["reason"], name(ch)
    assert claims[clean]["status"] == "sent"
    assert [m["To"] for m in sent()] == ["clean@example.com"]


def test_a_template_stored_with_any_of_them_in_its_subject_still_reads_and_sends_a_safe_subject(
    campaigns: Campaigns,
):
    contact = campaigns.contact(1, tags=("vip",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    template = campaigns.template()
    table = boto3.resource("dynamodb").Table(campaigns.stack.env[campaign_names.Env.CAMPAIGNS_TABLE])
    (row,) = [i for i in campaigns.items() if str(i["pk"]).endswith(template) and i["sk"] == "TEMPLATE"]
    doc = json.loads(row["doc"])
    # What the template rule let through before HeaderText (it refused C0 controls, CR, LF and DEL).
    legacy = "".join(ch for ch in UNSAFE if not any(c <= "\x1f" or c == "\x7f" for c in ch))
    assert {"\x85", "\u2028", "\u2029", "\u202e"} <= set(legacy)
    doc["subject"] = "News" + legacy + "for {{ first_name }}"
    table.put_item(Item={**row, "doc": json.dumps(doc)})
    assert campaigns.stack.call("GET", f"/templates/{template}", roles="marketer").status == 200
    cid = campaigns.campaign(campaigns.one_off_in(1), segment, template_id=template)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump()
    (mail,) = campaigns.mail(contact.email)
    assert safe_header(mail["subject"]) and " ".join(mail["subject"].split()) == "News for Ann"
    assert campaigns.stats(cid)["sent"] == 1
