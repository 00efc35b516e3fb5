"""integration: the asynchronous side of cases under moto: the intake queue, SLA timers fired by the
local stack's Firing (double-fired, stale, crashes between the write path's steps), case mail and the
CSAT survey, replanning after a policy edit, and redaction on a requester's erasure."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.cases.adapters.dynamo_cases import DynamoCases
from ecrm.cases.names import Resource
from ecrm.clock import SYSTEM_CLOCK
from ecrm_local import pollers

from tests.support import LambdaContext, Stack

FORM = {"email": "ann@example.com", "subject": "Printer on fire", "description": "It smokes.", "priority": "urgent"}
MESSAGE = {
    "schema_version": 1,
    "channel": "email",
    "message_id": "<CAF=x1@mail.example.com>",
    "requester": {"email": "bob@example.com", "first_name": "Bob"},
    "subject": "Invoice wrong",
    "description": "I was charged twice.",
    "priority": "high",
    "team": "billing",
    "tags": ["invoice"],
}


def agent(stack: Stack, method: str, path: str, body: Any = None, **kw: Any):
    return stack.call(method, path, body, roles="agent", **kw)


def open_case(stack: Stack, **fields: Any) -> str:
    return str(stack.call("POST", "/cases", {**FORM, **fields}).json["id"])


ACKNOWLEDGEMENT = "We received your request: "


def sent(*, acknowledgements: bool = False) -> list[email.message.EmailMessage]:
    """Mail moto's SES accepted, oldest first; the intake acknowledgements only when asked for."""
    from moto.ses.models import ses_backends

    raw = [m.raw_data for m in ses_backends["123456789012"]["us-east-1"].sent_messages]
    mails = [email.message_from_string(r, policy=email.policy.default) for r in raw]
    return [m for m in mails if acknowledgements or not m["Subject"].startswith(ACKNOWLEDGEMENT)]


def schedules() -> list[Any]:
    return list(boto3.client("scheduler").list_schedules(MaxResults=100)["Schedules"])


def advance_to(when: str | datetime) -> None:
    at = datetime.fromisoformat(when) if isinstance(when, str) else when
    SYSTEM_CLOCK.advance(max(0.0, (at - SYSTEM_CLOCK.now()).total_seconds()) + 1)


def invoke(name: str, bodies: list[str]) -> Any:
    from importlib import import_module

    messages = [
        {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": body, "MD5OfBody": "x"}
        for n, body in enumerate(bodies)
    ]
    event = pollers.sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{name}", "us-east-1")
    return import_module(f"{name}.handler").lambda_handler(event, LambdaContext(name))


def cases_table(stack: Stack) -> list[dict[str, Any]]:
    return [i for i in stack.table_items("CASES_TABLE_NAME") if i["sk"] == "CASE"]


# --- intake queue ------------------------------------------------------------------------------
def test_intake_batch_reports_bad_messages_and_makes_one_case_per_channel_message(stack: Stack):
    other = {**MESSAGE, "message_id": "chat-77", "channel": "chat"}
    bodies = [json.dumps(MESSAGE), "{not json", json.dumps({**MESSAGE, "subject": ""}), json.dumps(MESSAGE)]
    answer = invoke("cases_intake", [*bodies, json.dumps(other)])
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert len(cases_table(stack)) == 2
    assert invoke("cases_intake", [json.dumps(MESSAGE), json.dumps(other)]) == {"batchItemFailures": []}
    cases = cases_table(stack)
    assert len(cases) == 2  # the redelivery made nothing new
    by_channel = {c["case"]["channel"]: c["case"] for c in cases}
    assert (by_channel["email"]["team"], by_channel["email"]["priority"]) == ("billing", "high")
    refs = [i for i in stack.table_items("CASES_TABLE_NAME") if i["pk"].startswith("MSG#")]
    assert sorted(i["pk"] for i in refs) == ["MSG#chat#chat-77", "MSG#email#<CAF=x1@mail.example.com>"]
    assert all(int(i["expires_at"]) > SYSTEM_CLOCK.now().timestamp() + 29 * 86400 for i in refs)
    assert stack.bus_detail_types().count("CaseCreated.v1") == 2  # committed with each case; repeats add none


def test_the_intake_queue_feeds_the_consumer_and_failures_stay_on_the_queue(stack: Stack):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env["_queue:CaseIntakeQueue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(MESSAGE))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**MESSAGE, "channel": "fax"}))
    (answer,) = stack.deliver("CaseIntakeQueue")
    assert len(answer["batchItemFailures"]) == 1
    assert len(cases_table(stack)) == 1
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # back after its timeout, then DLQ


# --- SLA timers --------------------------------------------------------------------------------
def test_an_urgent_case_escalates_level_by_level_and_each_notice_goes_once(stack: Stack):
    cid = open_case(stack)
    steps = agent(stack, "GET", f"/cases/{cid}").json["sla_steps"]
    first_response = [s for s in steps if s["milestone"] == "first_response"]
    assert [s["step"] for s in first_response] == [0, 1, 2, 3]
    levels = []
    for step in first_response:
        advance_to(step["at"])
        stack.pump()
        levels.append(agent(stack, "GET", f"/cases/{cid}").json["escalation_level"])
    assert levels == [0, 1, 2, 3]
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert (case["team"], case["priority"]) == ("escalations", "urgent")
    escalations = [e for e in case["history"] if e["action"] in ("sla_warning", "escalated")]
    assert [e["detail"].get("level", 0) for e in escalations] == [0, 1, 2, 3]
    assert {e["actor"] for e in escalations} == {"system:sla"}
    subjects = [m["Subject"] for m in sent()]
    assert len(subjects) == len(set(subjects)) == 4  # each notice once, to management (nobody else set)
    assert {m["To"] for m in sent()} == {"support-managers@example.com"}
    bus = stack.bus_detail_types()
    assert (bus.count("SlaWarning.v1"), bus.count("SlaBreached.v1"), bus.count("CaseEscalated.v1")) == (1, 1, 3)
    assert [c["id"] for c in agent(stack, "GET", "/cases", query={"queue": "breached"}).json["items"]] == [cid]


def test_a_timer_delivered_twice_applies_its_level_once(stack: Stack):
    cid = open_case(stack)
    breach = next(s for s in schedules() if s["Name"].startswith(f"case-{cid}-fr-l1-"))
    payload = boto3.client("scheduler").get_schedule(Name=breach["Name"], GroupName=breach["GroupName"])
    body = payload["Target"]["Input"]
    advance_to(agent(stack, "GET", f"/cases/{cid}").json["next_deadline"])
    assert invoke("cases_timers", [body, body]) == {"batchItemFailures": []}
    stack.pump()  # and the schedule itself fires too
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert case["escalation_level"] == 1
    assert [e["action"] for e in case["history"]].count("escalated") == 1
    assert stack.bus_detail_types().count("SlaBreached.v1") == 1
    records = [i for i in stack.table_items("CASES_TABLE_NAME") if i["sk"].startswith("ESC#")]
    assert [i["sk"] for i in records] == ["ESC#first_response#1#1"]  # the warning, due earlier, was moot


def test_a_stale_timer_changes_nothing_and_bad_payloads_fail(stack: Stack):
    cid = open_case(stack)
    old = boto3.client("scheduler").get_schedule(
        Name=next(s["Name"] for s in schedules() if s["Name"].startswith(f"case-{cid}-fr-l1-")),
        GroupName=schedules()[0]["GroupName"],
    )["Target"]["Input"]
    agent(stack, "PATCH", f"/cases/{cid}", {"priority": "low", "expected_version": 1})  # a new generation
    SYSTEM_CLOCK.advance(3 * 86400)  # long past the old breach time: stale by generation, not by time
    before = agent(stack, "GET", f"/cases/{cid}").json
    not_ours = json.dumps({"kind": "campaign.send", "campaign_id": "x"})
    answer = invoke("cases_timers", [old, not_ours, json.dumps({"kind": "case.sla"}), "[]"])
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed == ["m1", "m2", "m3"]
    after = agent(stack, "GET", f"/cases/{cid}").json
    assert after["version"] == before["version"] and after["escalation_level"] == 0


def test_a_crash_before_the_write_leaves_timers_that_fire_stale(stack: Stack, monkeypatch):
    cid = open_case(stack, priority="low")
    planned = {s["Name"] for s in schedules()}

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function died")

    monkeypatch.setattr(DynamoCases, "save", crash)
    with pytest.raises(RuntimeError):
        agent(stack, "PATCH", f"/cases/{cid}", {"priority": "urgent", "expected_version": 1})
    monkeypatch.undo()
    orphans = {s["Name"] for s in schedules()} - planned
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert len(orphans) == 8 and (case["version"], case["priority"]) == (1, "low")
    assert all(case["sla"]["generation"] not in name for name in orphans)
    advance_to(max(s["at"] for s in case["sla_steps"] if s["milestone"] == "first_response"))
    stack.pump()
    escalated = agent(stack, "GET", f"/cases/{cid}").json
    breach = next(e for e in escalated["history"] if e["detail"].get("level") == 1)
    low_breach = next(s["at"] for s in case["sla_steps"] if (s["milestone"], s["step"]) == ("first_response", 1))
    assert breach["detail"]["milestone"] == "first_response"
    records = [i for i in stack.table_items("CASES_TABLE_NAME") if i["sk"] == "ESC#first_response#1#1"]
    assert [datetime.fromisoformat(r["record"]["due_at"]) for r in records] == [datetime.fromisoformat(low_breach)]
    assert not orphans & {s["Name"] for s in schedules()}  # fired, stale, deleted themselves: none re-created


def test_a_crash_after_the_write_leaves_old_timers_that_fire_stale(stack: Stack, monkeypatch):
    cid = open_case(stack, priority="low")
    old = {s["Name"] for s in schedules()}

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function died")

    monkeypatch.setattr(SchedulerTimers, "cancel", crash)
    with pytest.raises(RuntimeError):
        agent(stack, "PATCH", f"/cases/{cid}", {"priority": "urgent", "expected_version": 1})
    monkeypatch.undo()
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert (case["version"], case["priority"]) == (2, "urgent")
    assert old <= {s["Name"] for s in schedules()} and len(schedules()) == 16
    urgent_breach = next(s["at"] for s in case["sla_steps"] if (s["milestone"], s["step"]) == ("first_response", 1))
    advance_to(urgent_breach)
    stack.pump()
    assert agent(stack, "GET", f"/cases/{cid}").json["escalation_level"] == 1
    SYSTEM_CLOCK.advance(30 * 86400)  # every old timer's time has come: all stale
    stack.pump()
    records = [i for i in stack.table_items("CASES_TABLE_NAME") if i["sk"] == "ESC#first_response#1#1"]
    assert [datetime.fromisoformat(r["record"]["due_at"]) for r in records] == [datetime.fromisoformat(urgent_breach)]
    assert not old & {s["Name"] for s in schedules()}


def test_a_reopened_case_gets_fresh_timers_not_an_instant_escalation(stack: Stack):
    cid = open_case(stack)
    agent(stack, "POST", f"/cases/{cid}/solve", {})
    assert not [s for s in schedules() if cid in s["Name"]]
    SYSTEM_CLOCK.advance(10 * 86400)  # long past every target it had
    stack.pump()
    reopened = agent(stack, "POST", f"/cases/{cid}/reopen", {}).json
    stack.pump()
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert (case["escalation_level"], case["status"]) == (0, "open") and reopened["escalation_level"] == 0
    # Resolution starts a new cycle; so does the first response, which was never given.
    assert {(s["milestone"], s["cycle"]) for s in case["sla_steps"]} == {("first_response", 2), ("resolution", 2)}
    assert min(datetime.fromisoformat(s["at"]) for s in case["sla_steps"]) > SYSTEM_CLOCK.now()
    assert len([s for s in schedules() if cid in s["Name"]]) == 8


# --- mail and the CSAT survey ------------------------------------------------------------------
def test_a_case_from_the_form_is_acknowledged_once_and_a_chat_case_not_at_all(stack: Stack):
    cid = open_case(stack)
    invoke("cases_intake", [json.dumps({**MESSAGE, "channel": "chat", "message_id": "chat-1"})])
    # The bus delivers at least once: each CaseCreated reaches the mailer three times in its batch.
    answers = stack.deliver(Resource.CASE_MAIL_QUEUE, times=3)
    assert answers and all(a["batchItemFailures"] == [] for a in answers)
    stack.pump()
    (ack,) = sent(acknowledgements=True)  # web: acknowledged (context caseAckChannels); chat: not
    assert ack["To"] == "ann@example.com" and ack["Subject"] == f"{ACKNOWLEDGEMENT}Printer on fire [#{cid[:8]}]"
    assert ack["X-Case-Reference"] == cid[:8]
    assert stack.bus_detail_types().count("CaseCreated.v1") == 2


def test_public_replies_are_mailed_once_internal_notes_never(stack: Stack):
    cid = open_case(stack)
    agent(stack, "POST", f"/cases/{cid}/comments", {"body": "Internal: check toner"})
    agent(stack, "POST", f"/cases/{cid}/comments", {"body": "We are on it.", "visibility": "public"})
    stack.deliver("CaseMailQueue", times=2)  # every event delivered twice
    (mail,) = sent()
    assert mail["To"] == "ann@example.com" and mail["Subject"].startswith("Re: Printer on fire")
    assert "We are on it." in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "toner" not in str(mail)


def _survey_link(mail: email.message.EmailMessage) -> str:
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return next(w for w in text.split() if w.startswith("http") and "token=" in w)


def test_solving_mails_a_survey_whose_signed_link_rates_once(stack: Stack):
    cid = open_case(stack)
    agent(stack, "POST", f"/cases/{cid}/solve", {})
    stack.deliver("CaseMailQueue", times=2)
    (mail,) = sent()
    link = _survey_link(mail)
    assert link.startswith("http://localhost:3000/cases/csat?token=")
    token = parse_qs(urlsplit(link).query)["token"][0]
    page = stack.call("GET", "/cases/csat", query={"token": token})
    assert page.status == 200 and 'name="rating"' in page.body and 'name="token"' in page.body
    assert stack.call("GET", "/cases/csat").status == 400
    tampered = stack.call("POST", "/cases/csat", {"token": token[:-4] + "AAAA", "rating": 5})
    assert tampered.status == 400 and tampered.json["errors"][0]["field"] == "token"
    bad = stack.call("POST", "/cases/csat", {"token": token, "rating": 6})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "rating"
    form = f"token={token}&rating=4&comment=Quick+and+kind"
    rated = stack.call("POST", "/cases/csat", form, "application/x-www-form-urlencoded")
    assert rated.status == 200 and "Thank you" in rated.body
    again = stack.call("POST", "/cases/csat", {"token": token, "rating": 1})
    assert again.status == 409
    twice = stack.call("POST", "/cases/csat", form, "application/x-www-form-urlencoded")
    assert twice.status == 409 and "This case was rated already." in twice.body  # a page for the person
    forged = stack.call("POST", "/cases/csat", f"token={token[:-4]}AAAA&rating=2", "application/x-www-form-urlencoded")
    assert forged.status == 400 and "It cannot be used: signature does not match." in forged.body
    csat = agent(stack, "GET", f"/cases/{cid}").json["csat"]
    assert (csat["rating"], csat["comment"]) == (4, "Quick and kind")
    assert stack.bus_detail_types().count("CaseRated.v1") == 1
    assert agent(stack, "GET", "/cases/metrics").json["csat_average"] == 4.0


def test_an_expired_survey_link_is_refused(stack: Stack):
    cid = open_case(stack)
    agent(stack, "POST", f"/cases/{cid}/solve", {})
    stack.deliver("CaseMailQueue")
    token = parse_qs(urlsplit(_survey_link(sent()[0])).query)["token"][0]
    SYSTEM_CLOCK.advance(15 * 86400)
    answer = stack.call("POST", "/cases/csat", {"token": token, "rating": 5})
    assert answer.status == 400 and "expired" in answer.json["errors"][0]["message"]


def test_an_assignee_known_from_the_api_gets_the_warning(stack: Stack):
    cid = open_case(stack)
    agent(stack, "PATCH", f"/cases/{cid}", {"assignee_id": "agent-9", "expected_version": 1}, user="agent-9")
    warning = next(s for s in agent(stack, "GET", f"/cases/{cid}").json["sla_steps"] if s["step"] == 0)
    advance_to(warning["at"])
    stack.pump()
    assert [m["To"] for m in sent()] == ["agent-9@staff.example.com"]


# --- replanning after a policy edit ------------------------------------------------------------
def test_recompute_replans_a_page_and_queues_the_next(stack: Stack, monkeypatch):
    monkeypatch.setattr("ecrm.cases.recompute.PAGE", 3)  # pages of 3 rather than 20: fewer cases to open
    ids = [open_case(stack) for _ in range(4)]
    normal = open_case(stack, priority="normal")
    book = agent(stack, "GET", "/cases/policies").json["book"]
    book["policies"][0]["targets"]["urgent"] = {"first_response": "PT2H", "resolution": "PT16H"}
    assert stack.admin("PUT", "/cases/policies", {"book": book, "expected_version": 0}).status == 200
    before = {s["Name"] for s in schedules()}
    request = {"kind": "cases.recompute", "book_version": 1, "priority": "urgent"}
    assert invoke("cases_recompute", [json.dumps(request)]) == {"batchItemFailures": []}
    stack.deliver("CaseRecomputeQueue")  # the next page, which the first sent on
    versions = {cid: agent(stack, "GET", f"/cases/{cid}").json["version"] for cid in [*ids, normal]}
    assert versions == {**dict.fromkeys(ids, 2), normal: 1}
    case = agent(stack, "GET", f"/cases/{ids[0]}").json
    assert case["history"][-1]["action"] == "sla_recomputed"
    breach = next(s for s in case["sla_steps"] if (s["milestone"], s["step"]) == ("first_response", 1))
    created = datetime.fromisoformat(case["created_at"])
    assert datetime.fromisoformat(breach["at"]) - created >= timedelta(hours=2)
    after = {s["Name"] for s in schedules()}
    assert len(after) == len(before) and not {n for n in after if ids[0] in n} & before


# --- erasure -----------------------------------------------------------------------------------
def test_a_requester_s_erasure_redacts_their_cases(stack: Stack):
    cid = open_case(stack, subject="Ann Example's printer", description="Call me on +49 170 1234")
    other = open_case(stack, email="zoe@example.com", subject="Zoe's laptop")
    agent(stack, "POST", f"/cases/{cid}/comments", {"body": "Called Ann on +49 170 1234", "visibility": "public"})
    contact = agent(stack, "GET", f"/cases/{cid}").json["requester_id"]
    assert stack.admin("DELETE", f"/contacts/{contact}").status == 204
    stack.deliver("CaseErasureQueue", times=2)
    table = json.dumps(stack.table_items("CASES_TABLE_NAME"), default=str)
    assert "Ann Example" not in table and "+49 170" not in table
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert (case["subject"], case["description"], case["comments"][0]["body"]) == ("[erased]",) * 3
    assert case["requester_erased_at"] and case["history"][-1]["action"] == "requester_erased"
    assert agent(stack, "GET", f"/cases/{other}").json["subject"] == "Zoe's laptop"
    assert [e["action"] for e in case["history"]].count("requester_erased") == 1
