"""integration: the role-protected contacts API and the consent mail flow under moto."""

import email
import email.policy
import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from ecrm_infra import topology
from ecrm_infra.topology.contacts import CONTACTS

from tests.support import LambdaContext, Stack


def new_contact(stack: Stack, email: str = "ann@example.com", **fields: object) -> str:
    answer = stack.call("POST", "/contacts", {"email": email, **fields})
    assert answer.status in (200, 201), answer.body
    return str(answer.json["id"])


def deliver_consent_mail(stack: Stack) -> dict:
    """Move the rule-fed queue's messages into consent_mailer as one real SQS batch event."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env["_queue:ConsentMailQueue"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    from consent_mailer import handler

    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]
    return handler.lambda_handler(
        {"Records": records + records}, LambdaContext("consent_mailer")
    )  # every message delivered twice


def sent_mail() -> list:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"]["us-east-1"].sent_messages)


def confirm_token(raw_mime: str) -> str:
    text = email.message_from_string(raw_mime, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = next(w for w in text.split() if w.startswith("http") and "token=" in w)
    return parse_qs(urlsplit(link).query)["token"][0]


# The role matrix, route by route: which of admin/agent/marketer may call it (docs/roles.md).
MATRIX = {
    ("GET", "/contacts"): {"admin", "agent", "marketer"},
    ("GET", "/contacts/{contact_id}"): {"admin", "agent", "marketer"},
    ("PATCH", "/contacts/{contact_id}"): {"admin", "agent", "marketer"},
    ("DELETE", "/contacts/{contact_id}"): {"admin"},
}


def test_matrix_covers_every_protected_contacts_route():
    protected = {
        (r.method, r.path): set(r.roles) for r, fn in topology.routes() if not r.public and fn in CONTACTS.functions
    }
    assert protected == MATRIX


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
@pytest.mark.parametrize("role", ["admin", "agent", "marketer", "nobody"])
def test_role_matrix(stack: Stack, method, template, role):
    cid = new_contact(stack)
    path = template.replace("{contact_id}", cid)
    body = {"company": "Acme"} if method == "PATCH" else None
    answer = stack.call(method, path, body, roles=role, query={"tag": "x"} if path == "/contacts" else None)
    allowed = role in MATRIX[(method, template)]
    assert (answer.status < 400) == allowed, (answer.status, answer.body)
    if not allowed:
        assert answer.status == 403


def test_list_by_tag_pages_without_scan(stack: Stack):
    ids = [new_contact(stack, f"p{i}@example.com", tags=["vip"]) for i in range(5)]
    new_contact(stack, "other@example.com", tags=["news"])
    seen, cursor = [], None
    while True:
        query = {"tag": "vip", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = stack.admin("GET", "/contacts", query=query).json
        seen += [c["id"] for c in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert stack.admin("GET", "/contacts", query={"tag": "vip", "cursor": "bm9wZQ=="}).status == 400
    missing = stack.admin("GET", "/contacts")
    assert missing.status == 400 and "tag" in [e["field"] for e in missing.json["errors"]]
    bad_limit = stack.admin("GET", "/contacts", query={"tag": "vip", "limit": "1000"})
    assert bad_limit.status == 422 and bad_limit.json["errors"][0]["field"] == "limit"


def test_update_with_stale_version_is_409_and_changes_nothing(stack: Stack):
    cid = new_contact(stack)
    ok = stack.admin("PATCH", f"/contacts/{cid}", {"company": "Acme", "add_tags": ["vip"], "expected_version": 1})
    assert ok.status == 200 and ok.json["version"] == 2
    stale = stack.admin("PATCH", f"/contacts/{cid}", {"company": "Other", "expected_version": 1})
    assert stale.status == 409
    assert stack.admin("GET", f"/contacts/{cid}").json["company"] == "Acme"
    bad = stack.admin("PATCH", f"/contacts/{cid}", {"phone": "call me maybe"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "phone"
    assert stack.admin("GET", "/contacts/nothex").status == 422
    assert stack.admin("GET", "/contacts/" + "0" * 32).status == 404


def test_double_opt_in_with_duplicate_delivery_sends_one_mail_and_confirms_once(stack: Stack):
    cid = new_contact(stack, first_name="Ann", marketing_consent=True, form_id="footer")
    result = deliver_consent_mail(stack)
    assert result == {"batchItemFailures": []}
    mails = sent_mail()
    assert len(mails) == 1
    raw = mails[0].raw_data
    assert "Subject: Confirm your subscription" in raw and "To: ann@example.com" in raw
    token = confirm_token(raw)
    assert stack.call("GET", "/contacts/confirm").status == 400
    page = stack.call("GET", "/contacts/confirm", query={"token": token})
    assert page.status == 200 and 'name="token"' in page.body and "<form" in page.body
    tampered = stack.call("POST", "/contacts/confirm", {"token": token[:-4] + "AAAA"})
    assert tampered.status == 400 and tampered.json["errors"][0]["field"] == "token"
    assert stack.admin("GET", f"/contacts/{cid}").json["consent"]["status"] == "pending"
    forged = stack.call("POST", "/contacts/confirm", f"token={token[:-4]}AAAA", "application/x-www-form-urlencoded")
    assert forged.status == 400 and "The link signature does not match." in forged.body  # a page, not JSON
    confirmed = stack.call("POST", "/contacts/confirm", f"token={token}", "application/x-www-form-urlencoded")
    assert confirmed.status == 200 and "confirmed" in confirmed.body
    again = stack.call("POST", "/contacts/confirm", {"token": token})
    assert again.status == 200 and again.json["status"] == "confirmed"
    held = stack.admin("GET", f"/contacts/{cid}/export").json["held"]["contacts"]
    assert [r["record"]["kind"] for r in held["consent_history"]] == ["requested", "confirmed"]
    assert held["consent_history"][1]["record"]["ip"] == "203.0.113.10"
    assert [(m["item_key"].split("#")[1], m["status"]) for m in held["mail_log"]] == [("consent-confirm", "sent")]
    assert stack.bus_detail_types().count("ConsentConfirmed.v1") == 1


def test_expired_token_is_rejected(stack: Stack):
    from ecrm.clock import SYSTEM_CLOCK

    cid = new_contact(stack, marketing_consent=True)
    deliver_consent_mail(stack)
    token = confirm_token(sent_mail()[0].raw_data)
    SYSTEM_CLOCK.advance(73 * 3600)
    answer = stack.call("POST", "/contacts/confirm", {"token": token})
    assert answer.status == 400 and "expired" in answer.json["errors"][0]["message"]
    assert stack.admin("GET", f"/contacts/{cid}").json["consent"]["status"] == "pending"


def test_erase_removes_everything_and_repeats_harmlessly(stack: Stack):
    cid = new_contact(stack, tags=["vip"], marketing_consent=True)
    deliver_consent_mail(stack)
    assert stack.admin("DELETE", f"/contacts/{cid}").status == 204
    assert stack.admin("DELETE", f"/contacts/{cid}").status == 204
    assert stack.admin("GET", f"/contacts/{cid}").status == 404
    assert stack.admin("GET", "/contacts", query={"email": "ann@example.com"}).json["items"] == []
    assert stack.admin("GET", "/contacts", query={"tag": "vip"}).json["items"] == []
    leftovers = stack.table_items()
    # the tombstone, id and time only, in the change feed (gsi1) so copies elsewhere learn of it
    assert [(i["sk"], sorted(i)) for i in leftovers] == [("ERASED", ["erased_at", "gsi1pk", "gsi1sk", "pk", "sk"])]
    assert json.dumps(leftovers, default=str).count("ann@") == 0
    assert stack.bus_detail_types()[-2:] == ["ContactErased.v1", "ContactErased.v1"]
