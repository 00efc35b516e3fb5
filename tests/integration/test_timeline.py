"""integration: each contact's timeline, built from the bus across capabilities: newest first,
filtered by kind, paged without skips or repeats, the same after a duplicate delivery, kept per
kind's retention, and gone with the contact (a late event brings nothing back)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import boto3
from ecrm.contact360.names import Resource
from ecrm_infra import topology
from ecrm_local import resources

from tests.loyalty_support import order, publish
from tests.support import Stack

EMAIL = "tim.line@example.com"
QUEUE = Resource.TIMELINE_QUEUE
SHOP_QUEUE = next(t.queue for t, fn in topology.queue_triggers() if fn.name == "loyalty_accrual")


def _person(stack: Stack) -> tuple[str, str]:
    """A contact who captured, opened a case that got a public reply, and ordered: (contact, case)."""
    cid = str(stack.call("POST", "/contacts", {"email": EMAIL, "marketing_consent": True}).json["id"])
    case_id = str(stack.call("POST", "/cases", {"email": EMAIL, "subject": "Hi", "description": "Help"}).json["id"])
    comment = {"body": "On it", "visibility": "public"}
    assert stack.call("POST", f"/cases/{case_id}/comments", comment, roles="agent", user="agent-7").status == 201
    publish(("OrderPlaced.v1", order("o-1", contact_id=cid)))
    stack.pump()
    return cid, case_id


def _timeline(stack: Stack, cid: str, roles: str = "agent", **query: str) -> Any:
    return stack.call("GET", f"/contacts/{cid}/timeline", roles=roles, query=query or None)


def _entries() -> list[dict[str, Any]]:
    db = boto3.resource("dynamodb").Table(resources.physical_name(Resource.CONTACT360_TABLE))
    return db.scan()["Items"]


def test_the_timeline_shows_every_capabilitys_events_about_the_contact_newest_first(stack: Stack):
    cid, case_id = _person(stack)
    answer = _timeline(stack, cid)
    assert answer.status == 200, answer.body
    items = answer.json["items"]
    kinds = [i["kind"] for i in items]
    assert {"contact.captured", "case.opened", "case.commented", "points.earned"} <= set(kinds)
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    commented = next(i for i in items if i["kind"] == "case.commented")  # placed through the case
    assert commented["detail"]["case_id"] == case_id and "public comment" in commented["text"]
    captured = next(i for i in items if i["kind"] == "contact.captured")
    assert "consent requested" in captured["text"]
    # The actor where a signed-in user acted; nobody for the form, the requester or the shop.
    assert commented.get("actor") == "user:agent-7", commented
    assert [i.get("actor") for i in items if i["kind"] != "case.commented"] == [None] * (len(items) - 1)
    assert EMAIL not in json.dumps(items)  # ids and numbers only, as on the bus
    for role in ("admin", "marketer"):
        assert _timeline(stack, cid, roles=role).status == 200
    assert stack.call("GET", f"/contacts/{cid}/timeline").status == 401


def test_staff_changes_name_their_actor_and_the_same_change_twice_adds_one_entry(stack: Stack):
    cid, _case_id = _person(stack)
    patch = {"first_name": "Tim"}
    for _ in range(2):  # the second PATCH changes nothing: no event, no entry
        assert stack.call("PATCH", f"/contacts/{cid}", patch, roles="admin", user="admin-3").status == 200
    stack.pump()
    items = _timeline(stack, cid, kinds="contact.updated").json["items"]
    assert [(i["kind"], i["actor"]) for i in items] == [("contact.updated", "user:admin-3")]


def test_kinds_filter_and_pages_neither_skip_nor_repeat(stack: Stack):
    cid, _ = _person(stack)
    everything = [i["kind"] + i["at"] for i in _timeline(stack, cid, limit="100").json["items"]]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = _timeline(stack, cid, limit="2", **({"cursor": cursor} if cursor else {})).json
        seen += [i["kind"] + i["at"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == everything and len(everything) >= 4
    only = _timeline(stack, cid, kinds="case.opened, points.earned", limit="1")
    first, cursor = only.json["items"], only.json["next_cursor"]
    rest = _timeline(stack, cid, kinds="case.opened,points.earned", cursor=cursor).json["items"]
    assert sorted(i["kind"] for i in first + rest) == ["case.opened", "points.earned"]


def test_bad_filters_and_cursors_are_named(stack: Stack):
    cid, _ = _person(stack)
    unknown = _timeline(stack, cid, kinds="case.opened,case.exploded")
    assert unknown.status == 400 and unknown.json["errors"][0]["field"] == "kinds"
    assert "case.exploded" in unknown.json["errors"][0]["message"]
    other = base64.urlsafe_b64encode(json.dumps({"pk": {"S": "TIMELINE#x"}, "sk": {"S": "ENTRY#"}}).encode()).decode()
    forged = _timeline(stack, cid, cursor=other)
    assert forged.status == 400 and forged.json["errors"][0]["field"] == "cursor"
    assert _timeline(stack, cid, limit="0").status == 422
    assert _timeline(stack, "not-an-id").status == 422


def test_a_duplicate_delivery_adds_nothing_and_entries_keep_their_kinds_retention(stack: Stack):
    cid = str(stack.call("POST", "/contacts", {"email": EMAIL}).json["id"])
    publish(("OrderPlaced.v1", order("o-2", contact_id=cid)))
    stack.relay()
    stack.deliver(SHOP_QUEUE)  # the accrual commits PointsEarned
    stack.relay()
    answers = stack.deliver(QUEUE, times=2)  # every event twice in one batch
    assert answers and all(a == {"batchItemFailures": []} for a in answers)
    entries = _entries()
    assert sorted(e["kind"] for e in entries) == ["contact.captured", "points.earned"]
    for entry in entries:  # kept two years by default (context timelineRetentionDays)
        at = json.loads(entry["entry"])["at"]
        kept = int(entry["expires_at"]) - datetime.fromisoformat(at).timestamp()
        assert round(kept / 86400) == 730


def test_the_erasure_empties_the_timeline_and_a_late_event_brings_nothing_back(stack: Stack):
    cid, _ = _person(stack)
    assert _timeline(stack, cid).json["items"]
    assert stack.call("DELETE", f"/contacts/{cid}", roles="admin").status == 204
    stack.pump()
    assert _timeline(stack, cid).json["items"] == []
    publish(("OrderPlaced.v1", order("o-3", contact_id=cid)))  # the shop did not hear of the erasure
    stack.pump()
    assert _timeline(stack, cid).json["items"] == []
    assert [e["sk"] for e in _entries() if e["pk"] == f"TIMELINE#{cid}"] == ["ERASED"]
