"""e2e: opens and clicks simulated from the local outbox reach the campaign's stats, as SES's Open and
Click events would (POST /_local/outbox/engage, the outbox page's buttons)."""

from __future__ import annotations

import uuid

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


def test_engaging_a_mail_the_outbox_does_not_hold_is_a_404_and_bad_input_a_400(local: Local):
    missing = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "open"})
    assert missing.status == 404
    no_link = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "click"})
    assert no_link.status == 400 and no_link.json["errors"][0]["field"] == "link"
    bad_kind = local.call("POST", "/_local/outbox/engage", {"message_id": "nope", "kind": "bounce"})
    assert bad_kind.status == 400 and bad_kind.json["errors"][0]["field"] == "kind"
