"""integration: the cases API under moto: public form, roles, work on a case, queues on the GSIs,
optimistic locking, bad input (422 naming the field, nothing written), admin policies and staff."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from tests.support import Stack

FORM = {"email": "Ann@Example.com", "subject": "Printer on fire", "description": "It smokes.", "priority": "urgent"}
CASES = "CASES_TABLE_NAME"


def open_case(stack: Stack, **fields: Any) -> str:
    answer = stack.call("POST", "/cases", {**FORM, **fields})
    assert answer.status == 201, answer.body
    return str(answer.json["id"])


def agent(stack: Stack, method: str, path: str, body: Any = None, **kw: Any):
    return stack.call(method, path, body, roles="agent", **kw)


def case_items(stack: Stack) -> list[dict[str, Any]]:
    return [i for i in stack.table_items(CASES) if i["pk"].startswith("CASE#")]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email=ann%40example.com&subject=Hi&description=Help+me&priority=high", "application/x-www-form-urlencoded"),
        (
            b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nann@example.com\r\n'
            b'--b\r\nContent-Disposition: form-data; name="subject"\r\n\r\nHi\r\n'
            b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\nHelp me\r\n'
            b'--b\r\nContent-Disposition: form-data; name="priority"\r\n\r\nhigh\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_browser_forms_open_a_case_and_redirect(stack: Stack, body, content_type):
    answer = stack.call("POST", "/cases", body, content_type)
    assert answer.status == 303 and answer.headers["Location"] == "http://localhost:3000/_local/thanks"
    (case,) = [i for i in case_items(stack) if i["sk"] == "CASE"]
    assert (case["case"]["priority"], case["case"]["channel"], case["case"]["subject"]) == ("high", "web", "Hi")


def test_a_json_post_opens_a_case_linked_to_one_contact_with_timers(stack: Stack):
    first, second = open_case(stack), open_case(stack, email="ann@example.com")
    detail = agent(stack, "GET", f"/cases/{first}").json
    assert detail["requester_id"] == agent(stack, "GET", f"/cases/{second}").json["requester_id"]
    assert (detail["priority"], detail["status"], detail["escalation_level"]) == ("urgent", "new", 0)
    assert [e["action"] for e in detail["history"]] == ["created"]
    assert len(detail["sla_steps"]) == 8
    schedules = boto3.client("scheduler").list_schedules()["Schedules"]
    assert len([s for s in schedules if first in s["Name"]]) == 8
    assert stack.bus_detail_types() == ["ContactCaptured.v1", "CaseCreated.v1", "CaseCreated.v1"]
    assert "ann@" not in json.dumps(stack.table_items(CASES), default=str)  # the address stays in Contacts


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"email": "nope"}, 422, "email"),
        ({"subject": ""}, 422, "subject"),
        ({"subject": "a\r\nBcc: x@evil.example"}, 422, "subject"),
        ({"description": "x" * 20001}, 422, "description"),
        ({"priority": "asap"}, 422, "priority"),
        ({"tags": "ok,NOT OK!"}, 422, "tags.1"),
        ({"unknown": "x"}, 422, "unknown"),
    ],
)
def test_bad_form_input_names_the_field_and_writes_nothing(stack: Stack, change, status, field):
    answer = stack.call("POST", "/cases", {**FORM, **change})
    assert answer.status == status and answer.json["errors"][0]["field"] == field, answer.body
    assert stack.table_items(CASES) == [] and stack.table_items() == []
    assert boto3.client("scheduler").list_schedules()["Schedules"] == []
    assert stack.bus_detail_types() == []


def test_undecodable_bodies_are_refused(stack: Stack):
    assert stack.call("POST", "/cases", "{not json").json["errors"][0]["field"] == "body"
    assert stack.call("POST", "/cases", "x", "text/plain").status == 415
    assert stack.call("POST", "/cases", "a" * 70000, "application/x-www-form-urlencoded").status == 413
    assert stack.table_items(CASES) == []


def test_a_honeypot_post_looks_accepted_and_writes_nothing(stack: Stack):
    answer = stack.call("POST", "/cases", {**FORM, "website": "http://spam.example"})
    assert answer.status == 201 and answer.json["created"] is True
    assert stack.table_items(CASES) == [] and stack.bus_detail_types() == []


def test_an_agent_opens_a_case_for_a_requester(stack: Stack):
    req = {"requester_email": "bob@example.com", "subject": "Call", "description": "By phone", "team": "Billing"}
    answer = agent(stack, "POST", "/cases/agent", {**req, "assignee_id": "u1", "priority": "high"})
    assert answer.status == 201 and (answer.json["channel"], answer.json["team"]) == ("agent", "billing")
    bad = agent(stack, "POST", "/cases/agent", {**req, "team": "no spaces"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "team"


def test_work_on_a_case_is_recorded_and_versioned(stack: Stack):
    cid = open_case(stack)
    patched = agent(stack, "PATCH", f"/cases/{cid}", {"priority": "high", "assignee_id": "u1", "expected_version": 1})
    assert patched.status == 200 and patched.json["version"] == 2
    stale = agent(stack, "PATCH", f"/cases/{cid}", {"priority": "low", "expected_version": 1})
    assert stale.status == 409
    bad_status = agent(stack, "PATCH", f"/cases/{cid}", {"status": "closed", "expected_version": 2})
    assert bad_status.status == 409 and bad_status.json["errors"][0]["field"] == "status"
    missing_version = agent(stack, "PATCH", f"/cases/{cid}", {"priority": "low"})
    assert missing_version.status == 422 and missing_version.json["errors"][0]["field"] == "expected_version"
    note = agent(stack, "POST", f"/cases/{cid}/comments", {"body": "internal", "visibility": "internal"})
    reply = agent(stack, "POST", f"/cases/{cid}/comments", {"body": "On our way", "visibility": "public"})
    assert (note.status, reply.status) == (201, 201)
    solved = agent(stack, "POST", f"/cases/{cid}/solve", {"expected_version": 2})
    assert solved.status == 409  # the comments moved it on
    solved = agent(stack, "POST", f"/cases/{cid}/solve", {})
    assert solved.json["status"] == "solved"
    reopened = agent(stack, "POST", f"/cases/{cid}/reopen", {})
    assert (reopened.json["status"], reopened.json["escalation_level"]) == ("open", 0)
    history = agent(stack, "GET", f"/cases/{cid}/history", query={"limit": "3"}).json
    everything = agent(stack, "GET", f"/cases/{cid}/history", query={"limit": "100"}).json["items"]
    assert len(history["items"]) == 3 and history["next_cursor"]
    rest = agent(stack, "GET", f"/cases/{cid}/history", query={"limit": "100", "cursor": history["next_cursor"]})
    assert history["items"] + rest.json["items"] == everything
    actions = [e["action"] for e in everything]
    assert actions == [
        "created",
        "priority_changed",
        "assigned",
        "commented",
        "commented",
        "first_response",
        "status_changed",
        "solved",
        "reopened",
    ]
    assert {e["actor"] for e in everything[1:]} == {"u1"}
    assert everything[1]["before"] == {"priority": "urgent"} and everything[1]["after"] == {"priority": "high"}
    comments = agent(stack, "GET", f"/cases/{cid}/comments").json["items"]
    assert [c["visibility"] for c in comments] == ["internal", "public"]


def test_lookups_of_unknown_or_malformed_cases(stack: Stack):
    assert agent(stack, "GET", "/cases/" + "0" * 32).status == 404
    malformed = agent(stack, "GET", "/cases/not-a-case")
    assert malformed.status == 422 and malformed.json["errors"][0]["field"] == "case_id"
    assert agent(stack, "PATCH", "/cases/" + "0" * 32, {"priority": "low", "expected_version": 1}).status == 404


def test_concurrent_edits_one_wins_the_rest_get_409_and_comments_all_land(stack: Stack):
    cid = open_case(stack)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def edit(n: int) -> None:
        barrier.wait()
        statuses.append(agent(stack, "PATCH", f"/cases/{cid}", {"add_tags": [f"t{n}"], "expected_version": 1}).status)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 5
    case = agent(stack, "GET", f"/cases/{cid}").json
    assert len(case["tags"]) == 1 and case["version"] == 2

    barrier = threading.Barrier(4)

    def note(n: int) -> None:
        barrier.wait()
        assert agent(stack, "POST", f"/cases/{cid}/comments", {"body": f"note {n}"}).status == 201

    threads = [threading.Thread(target=note, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    comments = agent(stack, "GET", f"/cases/{cid}/comments").json["items"]
    assert sorted(c["body"] for c in comments) == [f"note {n}" for n in range(4)]  # nothing lost
    assert agent(stack, "GET", f"/cases/{cid}").json["version"] == 6


def test_queues_come_from_the_indexes_next_deadline_first_and_page(stack: Stack):
    low = agent(stack, "POST", "/cases/agent", _agent_case("low", "u1", "support")).json["id"]
    urgent = agent(stack, "POST", "/cases/agent", _agent_case("urgent", "u1", "support")).json["id"]
    other = agent(stack, "POST", "/cases/agent", _agent_case("high", "u2", "sales")).json["id"]
    mine = agent(stack, "GET", "/cases", query={"limit": "1"}).json
    assert [c["id"] for c in mine["items"]] == [urgent] and mine["next_cursor"]
    rest = agent(stack, "GET", "/cases", query={"limit": "1", "cursor": mine["next_cursor"]}).json
    assert [c["id"] for c in rest["items"]] == [low] and rest["next_cursor"] is None
    team = agent(stack, "GET", "/cases", query={"queue": "team", "team": "sales"}).json
    assert [c["id"] for c in team["items"]] == [other]
    assert agent(stack, "GET", "/cases", query={"queue": "breached"}).json["items"] == []
    foreign = agent(stack, "GET", "/cases", query={"queue": "team", "team": "support", "cursor": mine["next_cursor"]})
    assert foreign.status == 400 and foreign.json["errors"][0]["field"] == "cursor"
    no_team = agent(stack, "GET", "/cases", query={"queue": "team"})
    assert no_team.status == 400 and no_team.json["errors"][0]["field"] == "team"
    assert agent(stack, "GET", "/cases", query={"queue": "all"}).json["errors"][0]["field"] == "queue"
    agent(stack, "POST", f"/cases/{urgent}/solve", {})
    assert [c["id"] for c in agent(stack, "GET", "/cases").json["items"]] == [low]  # solved leave the queue


def _agent_case(priority: str, assignee: str, team: str) -> dict[str, Any]:
    return {
        "requester_email": "c@example.com",
        "subject": f"{priority} case",
        "description": "d",
        "priority": priority,
        "assignee_id": assignee,
        "team": team,
    }


def test_metrics_summarize_cases_solved_in_the_window(stack: Stack):
    solved = [open_case(stack) for _ in range(3)]
    open_case(stack)  # still open: not counted
    for cid in solved:
        agent(stack, "POST", f"/cases/{cid}/solve", {})
    report = agent(stack, "GET", "/cases/metrics").json
    assert (report["cases"], report["complete"], report["breach_rate"]) == (3, True, 0.0)
    later = agent(
        stack, "GET", "/cases/metrics", query={"since": "2099-01-01T00:00:00Z", "until": "2099-02-01T00:00:00Z"}
    )
    assert later.json["cases"] == 0
    too_long = agent(
        stack, "GET", "/cases/metrics", query={"since": "2026-01-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    )
    assert too_long.status == 400 and too_long.json["errors"][0]["field"] == "until"
    naive = agent(
        stack, "GET", "/cases/metrics", query={"since": "2026-01-01T00:00:00", "until": "2026-01-02T00:00:00"}
    )
    assert naive.status == 400 and naive.json["errors"][0]["field"] == "since"


def test_admins_edit_the_policy_book_against_its_version_and_replanning_is_queued(stack: Stack):
    current = agent(stack, "GET", "/cases/policies").json
    assert current["version"] == 0 and [p["id"] for p in current["book"]["policies"]] == ["standard", "vip"]
    book = current["book"]
    book["policies"][0]["targets"]["urgent"] = {"first_response": "PT2H", "resolution": "PT8H"}
    saved = stack.admin("PUT", "/cases/policies", {"book": book, "expected_version": 0})
    assert saved.status == 200 and saved.json["version"] == 1
    assert stack.admin("PUT", "/cases/policies", {"book": book, "expected_version": 0}).status == 409
    assert agent(stack, "GET", "/cases/policies").json["book"]["policies"][0]["targets"]["urgent"] == {
        "first_response": "PT2H",
        "resolution": "PT8H",
    }
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env["_queue:CaseRecomputeQueue"])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # urgent only, after the cache
    no_default = {"book": {"policies": [{**book["policies"][1]}]}, "expected_version": 1}
    refused = stack.admin("PUT", "/cases/policies", no_default)
    assert refused.status == 422 and refused.json["errors"][0]["field"].startswith("book")
    bad_zone = json.loads(json.dumps(book))
    bad_zone["policies"][0]["calendar"]["timezone"] = "Mars/Olympus"
    answer = stack.admin("PUT", "/cases/policies", {"book": bad_zone, "expected_version": 1})
    assert answer.status == 422 and "calendar.timezone" in answer.json["errors"][0]["field"]
    assert [i["sk"] for i in stack.table_items(CASES) if i["pk"] == "CONFIG"] == ["POLICIES", "POLICIES#000001"]


def test_admins_set_team_leads_and_management(stack: Stack):
    answer = stack.admin("PUT", "/cases/staff", {"team_leads": {"billing": "lea@corp.example"}, "expected_version": 0})
    assert answer.status == 200 and answer.json["version"] == 1
    assert stack.admin("GET", "/cases/staff").json["team_leads"] == {"billing": "lea@corp.example"}
    assert stack.admin("PUT", "/cases/staff", {"management": [], "expected_version": 0}).status == 409
    bad = stack.admin("PUT", "/cases/staff", {"management": ["x"], "expected_version": 1})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "management.0"


def test_signed_in_callers_are_remembered_for_notices(stack: Stack):
    agent(stack, "GET", "/cases", user="agent-7")
    staff = [i for i in stack.table_items(CASES) if i["pk"] == "STAFF#agent-7"]
    assert [s["email"] for s in staff] == ["agent-7@staff.example.com"]
