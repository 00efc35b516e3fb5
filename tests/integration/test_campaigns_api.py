"""integration: the marketers' API under moto: roles, bad input answered 4xx naming the field with
nothing written, previews, optimistic locks and the lifecycle's refusals."""

from __future__ import annotations

import re
from typing import Any

from ecrm.campaigns.names import Env
from ecrm_infra import topology
from ecrm_infra.topology.campaigns import CAMPAIGNS

from tests.integration.campaigns_support import HTML, TEXT, Campaigns

ROUTES = [(r, fn) for r, fn in topology.routes() if fn in CAMPAIGNS.functions and not r.public]
SOME_ID = "0" * 31 + "9"
GOOD_TEMPLATE = {"name": "T", "subject": "Hi {{ first_name }}", "html": HTML, "text": TEXT}


def test_every_campaign_route_is_for_marketers_and_admins_only(campaigns: Campaigns):
    assert len(ROUTES) == 21
    for route, _ in ROUTES:
        path = re.sub(r"\{\w+\}", SOME_ID, route.path)
        for role in ("agent", "nobody"):
            denied = campaigns.stack.call(route.method, path, {}, roles=role)
            assert (denied.status, denied.json["message"]) == (403, "your role may not do this"), route
        for role in ("marketer", "admin"):
            assert campaigns.stack.call(route.method, path, {}, roles=role).status != 403, (route, role)
    assert set(CAMPAIGNS.functions[0].routes[0].roles) == {"admin", "marketer"}


def _errors(answer: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in answer.json["errors"]}


BAD_INPUT: list[tuple[str, dict[str, Any], str, str]] = [
    ("/templates", {**GOOD_TEMPLATE, "subject": "Hi {{ frist_name }}"}, "subject", "frist_name"),
    ("/templates", {**GOOD_TEMPLATE, "subject": "Hi\r\nBcc: x@evil.test"}, "subject", "one line"),
    ("/templates", {**GOOD_TEMPLATE, "html": "<p>no link</p>"}, "html", "unsubscribe_url"),
    ("/templates", {**GOOD_TEMPLATE, "text": "{{ unsubscribe_url"}, "text", "{{"),
    ("/templates", {**GOOD_TEMPLATE, "colour": "red"}, "colour", "Extra inputs"),
    ("/templates", {k: v for k, v in GOOD_TEMPLATE.items() if k != "subject"}, "subject", "required"),
    (
        "/segments",
        {"name": "S", "rules": {"include": [{"kind": "shoe_size", "any_of": ["9"]}]}},
        "rules.include.0",
        "",
    ),
    ("/segments", {"name": "S", "rules": {"exclude": [{"kind": "consent"}]}}, "rules.exclude", "consent"),
    (
        "/segments",
        {"name": "S", "rules": {"include": [{"kind": "country", "any_of": ["Germany"]}]}},
        "rules.include.0.country.any_of.0",
        "",
    ),
    (
        "/segments/preview",
        {"rules": {"include": [{"kind": "last_activity"}]}},
        "rules.include.0.last_activity",
        "at least one",
    ),
    (
        "/campaigns",
        {
            "name": "C",
            "template_id": SOME_ID,
            "schedule": {"kind": "one_off", "at": "2030-03-31T02:30", "timezone": "Europe/Berlin"},
            "segment_id": SOME_ID,
        },
        "schedule.one_off.at",
        "does not exist",
    ),
    (
        "/campaigns",
        {
            "name": "C",
            "template_id": SOME_ID,
            "schedule": {"kind": "recurring", "cron": "* 9 ? * TUE *"},
            "segment_id": SOME_ID,
        },
        "schedule.recurring.cron",
        "minutes",
    ),
    (
        "/campaigns",
        {"name": "C", "template_id": SOME_ID, "schedule": {"kind": "one_off", "at": "2030-01-01T09:00"}},
        "segment_id",
        "needs a segment",
    ),
    (
        "/campaigns",
        {"name": "C", "template_id": SOME_ID, "schedule": {"kind": "triggered", "detail_type": "OrderPlaced.v1"}},
        "schedule.triggered.detail_type",
        "not an event",
    ),
    (
        "/campaigns",
        {
            "name": "C",
            "template_id": "nope",
            "schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"},
        },
        "template_id",
        "pattern",
    ),
]


def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(campaigns: Campaigns):
    for path, body, field, says in BAD_INPUT:  # one stack: none of them may write anything
        answer = campaigns.stack.call("POST", path, body, roles="marketer")
        assert answer.status == 422, (path, body, answer.body)
        errors = _errors(answer)
        assert field in errors, (path, errors)
        assert says in errors[field], (path, errors)
    assert campaigns.stack.table_items(Env.CAMPAIGNS_TABLE) == []


def test_references_and_paths_are_checked_before_anything_is_written(campaigns: Campaigns):
    triggered = {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"}
    unknown = campaigns.stack.call(
        "POST", "/campaigns", {"name": "C", "template_id": SOME_ID, "schedule": triggered}, roles="marketer"
    )
    assert (unknown.status, _errors(unknown)) == (422, {"template_id": "no template with this id"})
    bad_id = campaigns.stack.call("GET", "/campaigns/not-an-id", roles="marketer")
    assert bad_id.status == 422 and "campaign_id" in _errors(bad_id)
    assert campaigns.stack.call("GET", f"/campaigns/{SOME_ID}", roles="marketer").status == 404
    bad_json = campaigns.stack.call("POST", "/templates", '{"name": ', roles="marketer")
    assert (bad_json.status, _errors(bad_json)) == (400, {"body": "invalid JSON: Expecting value at position 9"})
    limit = campaigns.stack.call("GET", "/templates", roles="marketer", query={"limit": "0"})
    assert limit.status == 422 and "limit" in _errors(limit)
    cursor = campaigns.stack.call("GET", "/templates", roles="marketer", query={"cursor": "Zm9yZ2Vk"})
    assert (cursor.status, _errors(cursor)) == (400, {"cursor": "not a cursor this API returned"})
    assert campaigns.stack.table_items(Env.CAMPAIGNS_TABLE) == []


def test_template_preview_renders_for_a_contact_escaped_with_inert_links(campaigns: Campaigns):
    contact = campaigns.contact(1, first_name='<script>alert("x")</script>', announce=False)
    campaigns.contacts.save(contact.model_copy(update={"last_name": "Doe\r\nBcc: x@evil.test", "version": 2}), contact)
    template = campaigns.template(subject="Hello {{ first_name }} {{ last_name }}")
    answer = campaigns.stack.call(
        "GET", f"/templates/{template}/preview", roles="marketer", query={"contact_id": contact.id}
    )
    preview = answer.json
    assert answer.status == 200
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in preview["html"] and "<script>" not in preview["html"]
    assert "\n" not in preview["subject"] and "\r" not in preview["subject"]  # a header stays one line
    assert (
        "token=preview" in preview["html"]
        and preview["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    missing = campaigns.stack.call(
        "GET", f"/templates/{template}/preview", roles="marketer", query={"contact_id": SOME_ID}
    )
    assert missing.status == 404


def test_edits_take_an_optimistic_lock_and_only_drafts_change(campaigns: Campaigns):
    template = campaigns.template()
    stale = campaigns.stack.call(
        "PUT", f"/templates/{template}", {**GOOD_TEMPLATE, "expected_version": 7}, roles="marketer"
    )
    assert stale.status == 409
    fresh = campaigns.stack.call(
        "PUT", f"/templates/{template}", {**GOOD_TEMPLATE, "name": "New", "expected_version": 1}, roles="marketer"
    )
    assert (fresh.status, fresh.json["version"], fresh.json["name"]) == (200, 2, "New")
    body = {
        "name": "W",
        "template_id": template,
        "schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"},
    }
    cid = campaigns.create("/campaigns", body)["id"]
    assert campaigns.action(cid, "schedule")["status"] == "sending"
    assert campaigns.stack.call("PUT", f"/campaigns/{cid}", body, roles="marketer").status == 409  # live: no edits
    assert campaigns.stack.call("POST", f"/campaigns/{cid}/schedule", roles="marketer").status == 409
    assert (
        campaigns.stack.call("POST", f"/campaigns/{cid}/pause", {"expected_version": 1}, roles="marketer").status == 409
    )
    assert campaigns.action(cid, "pause")["status"] == "paused"
    assert campaigns.action(cid, "resume")["status"] == "sending"
    assert campaigns.action(cid, "cancel")["status"] == "cancelled"
    assert campaigns.stack.call("POST", f"/campaigns/{cid}/resume", roles="marketer").status == 409


def test_a_one_off_time_in_the_past_is_refused_when_scheduling(campaigns: Campaigns):
    campaigns.contact(1, tags=("vip",), announce=False)
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(-1), segment)
    answer = campaigns.stack.call("POST", f"/campaigns/{cid}/schedule", roles="marketer")
    assert (answer.status, _errors(answer)) == (422, {"schedule.at": "is in the past"})
    assert campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json["status"] == "draft"


def test_lists_page_newest_first_and_owner_is_the_caller(campaigns: Campaigns):
    ids = [campaigns.template() for _ in range(3)]
    first = campaigns.stack.call("GET", "/templates", roles="marketer", query={"limit": "2"}).json
    rest = campaigns.stack.call(
        "GET", "/templates", roles="marketer", query={"limit": "2", "cursor": first["next_cursor"]}
    ).json
    assert [t["id"] for t in first["items"] + rest["items"]] == ids[::-1] and rest["next_cursor"] is None
    body = {"name": "W", "template_id": ids[0], "schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1"}}
    created = campaigns.stack.call("POST", "/campaigns", body, roles="marketer", user="marketer-7")
    assert (created.status, created.json["owner"], created.json["status"]) == (201, "marketer-7", "draft")


def test_a_caller_without_the_role_learns_nothing_but_403(campaigns: Campaigns):
    bad = {"name": "T", "subject": "{{ nope }}"}
    assert campaigns.stack.call("POST", "/templates", bad, roles="agent").status == 403
    assert campaigns.stack.call("POST", "/templates", bad, roles="marketer").status == 422
