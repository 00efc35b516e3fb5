"""e2e: the local stack over HTTP: routes, the authorizer, CORS, local controls and the outbox."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e


def _email() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}@example.org"


def test_sample_form_page_is_served_with_every_field(local: Local):
    page = local.call("GET", "/form")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    for field in ("email", "first_name", "marketing_consent", "utm_source", "page_url", "form_id", "website"):
        assert f'name="{field}"' in page.text
    assert 'action="/contacts"' in page.text and 'tabindex="-1"' in page.text
    assert local.call("GET", "/").body == page.body


def test_json_capture_answers_201_then_200_with_the_same_id(local: Local):
    email = _email()
    first = local.call("POST", "/contacts", {"email": email, "first_name": "Ann"})
    again = local.call("POST", "/contacts", {"email": email, "company": "ACME"})
    assert (first.status, again.status) == (201, 200)
    assert first.json["id"] == again.json["id"]


def test_form_post_redirects_to_the_local_thank_you_page(local: Local):
    answer = local.call(
        "POST",
        "/contacts",
        f"email={_email().replace('@', '%40')}&tags=newsletter&form_id=local-sample",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == local.base + "/_local/thanks"
    assert local.call("GET", "/_local/thanks").status == 200


@pytest.mark.parametrize("authorization", [None, "Bearer not.a.token", "Basic abc"])
def test_protected_route_without_a_valid_token_is_401_before_the_function(local: Local, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = local.call("GET", f"/contacts/{uuid.uuid4().hex}", headers=headers)
    assert answer.status == 401 and answer.json == {"message": "Unauthorized"}


def test_role_check_is_answered_by_the_handler(local: Local):
    contact_id = local.call("POST", "/contacts", {"email": _email()}).json["id"]
    denied = local.call("DELETE", f"/contacts/{contact_id}", role="marketer")
    assert denied.status == 403 and denied.json["message"] != "Unauthorized"
    assert local.call("GET", f"/contacts/{contact_id}", role="marketer").status == 200
    assert local.call("DELETE", f"/contacts/{contact_id}", role="admin").status == 204


def test_with_a_minted_token_the_role_is_checked_before_the_body(local: Local):
    junk = {"Content-Type": "application/json"}
    denied = local.call("POST", "/cases/agent", '{"subject": ', junk, role="marketer")
    assert (denied.status, denied.json) == (
        403,
        {"message": "your role may not do this", "allowed_roles": ["admin", "agent"]},
    )
    allowed = local.call("POST", "/cases/agent", '{"subject": ', junk, role="agent")
    assert (allowed.status, allowed.json["errors"][0]["field"]) == (400, "body")  # now the body is read


def test_unknown_route_answers_like_api_gateway(local: Local):
    assert local.call("GET", "/nothing-here").json == {"message": "Missing Authentication Token"}


def test_cors_preflight_for_an_allowed_origin(local: Local):
    answer = local.call("OPTIONS", "/contacts", headers={"Origin": local.base, "Access-Control-Request-Method": "POST"})
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == local.base
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    other = local.call("OPTIONS", "/contacts", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_body_over_10_mb_is_rejected_with_413(local: Local):
    answer = local.call("POST", "/contacts", b"x" * (10 * 1024 * 1024 + 1), {"Content-Type": "application/json"})
    assert answer.status == 413


def test_events_control_puts_one_entry_on_the_bus(local: Local):
    entry = {"Source": "ecrm.e2e", "DetailType": "Probe.v1", "Detail": {"hello": "world"}}
    assert local.call("POST", "/_local/events", entry).json["FailedEntryCount"] == 0
    missing = local.call("POST", "/_local/events", {"Source": "ecrm.e2e", "Detail": "{}"})
    assert missing.status == 400 and missing.json["errors"][0]["field"] == "DetailType"


def test_clock_control_fires_a_due_at_schedule_into_its_queue_once(local: Local):
    sqs, scheduler = local.boto("sqs"), local.boto("scheduler")
    url = sqs.create_queue(QueueName=f"e2e-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    now = datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=f"at({(now + timedelta(hours=2)).strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/scheduler", "Input": '{"case": "c1"}'},
        ActionAfterCompletion="DELETE",
    )
    early = local.call("POST", "/_local/clock", {"advance_seconds": 3600}).json
    assert name not in [f["name"].split("/")[-1] for f in early["fired"]]
    answer = local.call("POST", "/_local/clock", {"advance_seconds": 3601})
    assert answer.status == 200
    assert {"kind": "schedule", "name": f"default/{name}", "target": arn} in answer.json["fired"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ['{"case": "c1"}']
    assert name not in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]


@pytest.mark.parametrize("body", [{"advance_seconds": -1}, {"advance_seconds": "60"}, {}, {"advance_seconds": True}])
def test_clock_control_rejects_anything_but_a_non_negative_number(local: Local, body):
    answer = local.call("POST", "/_local/clock", body)
    assert answer.status == 400 and answer.json["errors"][0]["field"] == "advance_seconds"


def test_consent_mail_lands_in_the_outbox_with_its_shape(local: Local):
    email = _email()
    assert local.call("POST", "/contacts", {"email": email, "marketing_consent": True}).status == 201
    mail = local.wait_for(lambda: local.mail_to(email), what="the confirmation mail")
    assert len(mail) == 1
    item = mail[0]
    assert set(item) == {"to", "from", "subject", "text", "html", "headers", "sent_at", "message_id"}
    assert item["to"] == [email] and "Confirm" in item["subject"]
    assert f"{local.base}/contacts/confirm?token=" in item["text"]
    assert item["headers"]["To"] == email and datetime.fromisoformat(item["sent_at"])
    page = local.call("GET", "/_local/outbox.html")
    # The page's one script is its own (the open / click buttons); mail content is escaped.
    assert page.status == 200 and email in page.text
    assert page.text.count("<script") == 1 and "<script src='/_local/outbox.js' defer>" in page.text


def test_openapi_and_swagger_ui_are_served_locally(local: Local):
    spec = local.call("GET", "/openapi.json").json
    assert {"/contacts", "/contacts/{contact_id}"} <= set(spec["paths"])
    assert spec["paths"]["/contacts/{contact_id}"]["get"]["security"] == [{"bearerAuth": []}]
    docs = local.call("GET", "/docs")
    assert docs.status == 200 and "/docs/swagger-ui-bundle.js" in docs.text
    assert local.call("GET", "/docs/swagger-ui-bundle.js").status == 200


def test_health_names_the_moto_endpoint(local: Local):
    health = local.call("GET", "/_local/health").json
    assert health == {"ok": True, "moto": local.moto}
    tables = local.boto("dynamodb").list_tables()["TableNames"]
    assert json.dumps(tables) and any(t.endswith("Contacts") for t in tables)
