"""e2e: opens and clicks simulated from the local outbox reach the campaign's stats, as SES's Open and
Click events would (POST /_local/outbox/engage, the outbox page's buttons)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest

from tests.e2e.conftest import Local
from tests.e2e.test_local_campaign_send import sent, start_campaign

pytestmark = pytest.mark.e2e

SALE = "https://shop.example.org/sale"


def _stats(local: Local, cid: str) -> dict[str, int]:
    totals: dict[str, int] = local.call("GET", f"/campaigns/{cid}/stats", role="marketer").json["total"]
    return totals


def test_a_simulated_open_and_click_are_counted_in_the_campaign_stats(local: Local):
    tag = f"eng{uuid.uuid4().hex[:8]}"
    cid, subject = start_campaign(local, tag, 2)
    local.call("POST", "/_local/clock", {"advance_seconds": 3601})
    mail = local.wait_for(lambda: len(sent(local, subject)) == 2 and sent(local, subject), timeout=60, what="the mail")
    local.wait_for(lambda: _stats(local, cid)["delivered"] == 2, timeout=30, what="both deliveries")
    assert (_stats(local, cid)["opened"], _stats(local, cid)["clicked"]) == (0, 0)

    first = mail[0]
    page = local.call("GET", "/_local/outbox.html").text
    assert f"data-message='{first['message_id']}'" in page and f"data-link='{SALE}'" in page

    opened = local.call("POST", "/_local/outbox/engage", {"message_id": first["message_id"], "kind": "open"})
    assert opened.status == 200 and opened.json["FailedEntryCount"] == 0
    clicked = local.call(
        "POST", "/_local/outbox/engage", {"message_id": first["message_id"], "kind": "click", "link": SALE}
    )
    assert clicked.status == 200
    stats = local.wait_for(
        lambda: (s := _stats(local, cid))["opened"] == 1 and s["clicked"] == 1 and s,
        timeout=30,
        what="the open and the click counted",
    )
    assert stats["delivered"] == 2
    # the recipient's timeline holds their mail's life, from SES's events (ids only), and their
    # complete export, as a zip, holds it too
    (address,) = first["to"]
    contact = local.call("GET", f"/contacts?email={address}", role="agent").json["items"][0]["id"]
    path = f"/contacts/{contact}/timeline?kinds=mail.sent,mail.delivered,mail.opened,mail.clicked"
    kinds = local.wait_for(
        lambda: len(k := {e["kind"] for e in local.call("GET", path, role="agent").json["items"]}) == 4 and k,
        timeout=30,
        what="the mail's four events on the timeline",
    )
    assert kinds == {"mail.sent", "mail.delivered", "mail.opened", "mail.clicked"}
    export = local.call(
        "GET", f"/contacts/{contact}/export?format=zip", role="admin", headers={"Accept": "application/zip"}
    )
    assert export.status == 200 and export.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.body)) as archive:
        assert "contact360/timeline.csv" in archive.namelist()
        assert json.loads(archive.read("export.json"))["held"]["campaigns"]["campaign_sends"]


def test_engaging_a_mail_the_outbox_does_not_hold_is_a_404_and_bad_input_a_400(local: Local):
    missing = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "open"})
    assert missing.status == 404
    no_link = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "click"})
    assert no_link.status == 400 and no_link.json["errors"][0]["field"] == "link"
    bad_kind = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "bounce"})
    assert bad_kind.status == 400 and bad_kind.json["errors"][0]["field"] == "kind"
