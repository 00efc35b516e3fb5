"""integration: contacts exported to CSV in the bucket under moto (all, or a tag's), downloaded
through the presigned link; erased contacts never appear."""

from __future__ import annotations

import csv
import io
from typing import Any

import requests
from ecrm.imports.names import Resource

from tests.support import Stack

MARKETER = "marketer"


def capture(stack: Stack, email: str, **fields: Any) -> str:
    answer = stack.call("POST", "/contacts", {"email": email, **fields})
    assert answer.status == 201, answer.body
    return str(answer.json["id"])


def export(stack: Stack, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    queued = stack.call("POST", "/exports", body, roles=MARKETER)
    assert queued.status == 202, queued.body
    assert queued.json["state"] == "queued" and queued.json["download_url"] is None
    stack.deliver(Resource.EXPORT_QUEUE, times=2)  # a duplicate delivery: the second copy is stale
    job = stack.call("GET", f"/exports/{queued.json['id']}", roles=MARKETER).json
    text = requests.get(job["download_url"], timeout=10).content.decode("utf-8")
    assert text.startswith("\ufeffid,email,")
    return job, list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_every_contact_but_the_erased_is_exported_and_a_tag_selects(stack: Stack, monkeypatch: Any) -> None:
    from ecrm.imports import exports

    monkeypatch.setattr(exports, "PAGE", 2)  # several pages of the feed and of the tag listing
    for n in range(5):
        capture(stack, f"p{n}@example.com", first_name=f"P{n}", tags=["vip"] if n % 2 == 0 else [])
    capture(stack, "sheet@example.com", first_name="=HYPERLINK(1)", company="-2+3", phone="+49 30 1234")
    erased = capture(stack, "gone@example.com", tags=["vip"])
    assert stack.call("DELETE", f"/contacts/{erased}", roles="admin").status == 204
    _settle_the_feed()
    job, rows = export(stack, {})
    assert job["state"] == "done" and job["rows"] == len(rows) == 6
    assert "gone@example.com" not in {r["email"] for r in rows} and erased not in {r["id"] for r in rows}
    sheet = next(r for r in rows if r["email"] == "sheet@example.com")
    assert (sheet["first_name"], sheet["company"], sheet["phone"]) == ("'=HYPERLINK(1)", "'-2+3", "+49 30 1234")
    job, rows = export(stack, {"tag": "VIP"})
    assert sorted(r["email"] for r in rows) == ["p0@example.com", "p2@example.com", "p4@example.com"]
    assert all(r["tags"] == "vip" for r in rows)


def test_a_segments_consented_members_are_exported_and_never_an_erased_one(stack: Stack) -> None:
    csv_file = (
        b"email,tags,consent_source,consent_at\n"
        b"ann@example.com,news,shop,2024-03-01T10:00:00Z\n"
        b"bob@example.com,news,,\n"  # no proof: not consented, so in no segment
        b"cid@example.com,news,shop,2024-03-01T10:00:00Z\n"
        b"dan@example.com,other,shop,2024-03-01T10:00:00Z\n"
    )
    created = stack.call("POST", "/imports", {"size_bytes": len(csv_file)}, roles=MARKETER).json
    requests.put(created["upload_url"], data=csv_file, headers=created["upload_headers"], timeout=10)
    stack.call("POST", f"/imports/{created['id']}/start", roles=MARKETER)
    stack.pump()
    cid = stack.call("GET", "/contacts", roles=MARKETER, query={"email": "cid@example.com"}).json["items"][0]["id"]
    assert stack.call("DELETE", f"/contacts/{cid}", roles="admin").status == 204
    stack.pump()
    rules = {"include": [{"kind": "tag", "any_of": ["news"]}], "exclude": []}
    segment = stack.call("POST", "/segments", {"name": "News readers", "rules": rules}, roles=MARKETER)
    assert segment.status == 201, segment.body
    job, rows = export(stack, {"segment_id": segment.json["id"]})
    assert [r["email"] for r in rows] == ["ann@example.com"]
    assert job["segment_id"] == segment.json["id"] and job["rows"] == 1


def test_an_export_of_a_segment_deleted_meanwhile_fails_with_its_reason(stack: Stack) -> None:
    queued = stack.call("POST", "/exports", {"segment_id": "0" * 32}, roles=MARKETER)
    assert queued.status == 202
    stack.deliver(Resource.EXPORT_QUEUE)
    job = stack.call("GET", f"/exports/{queued.json['id']}", roles=MARKETER).json
    assert (job["state"], job["error"], job["download_url"]) == ("failed", "the segment no longer exists", None)


def test_a_bad_filter_is_refused_naming_the_field(stack: Stack) -> None:
    answer = stack.call("POST", "/exports", {"tag": "no spaces"}, roles=MARKETER)
    assert answer.status == 422 and "tag" in answer.body
    answer = stack.call("POST", "/exports", {"segment": "x"}, roles=MARKETER)
    assert answer.status == 422 and "segment" in answer.body
    answer = stack.call("POST", "/exports", {"tag": "vip", "segment_id": "0" * 32}, roles=MARKETER)
    assert answer.status == 422 and "segment_id" in answer.body


def _settle_the_feed() -> None:
    """The change feed answers changes up to a few seconds ago (ecrm.contacts.feed.SETTLE)."""
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.contacts import feed

    SYSTEM_CLOCK.offset += feed.SETTLE * 2
