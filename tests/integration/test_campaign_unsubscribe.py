"""integration: RFC 8058 one-click unsubscribe and the preferences page, on the signed links the
campaign mail carries; a tampered token answers 4xx and changes nothing; erasure keeps ids only."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from ecrm.campaigns.names import Env

from tests.integration.campaigns_support import Campaigns

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def _mailed(campaigns: Campaigns, topic: str = "newsletter") -> tuple[str, str]:
    """Run a campaign on `topic` to everyone tagged `vip`; the token in Ann's List-Unsubscribe header."""
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment, topic=topic)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump()
    header = campaigns.mail("c1@example.com")[-1]["headers"]["List-Unsubscribe"]
    url = header.strip("<>").split(">")[0]
    return cid, parse_qs(urlsplit(url).query)["token"][0]


@pytest.fixture
def mailed(campaigns: Campaigns) -> tuple[Campaigns, str, str]:
    campaigns.contact(1, tags=("vip",))
    campaigns.contact(2, tags=("vip",))
    campaigns.pump()
    cid, token = _mailed(campaigns)
    return campaigns, cid, token


def _prefs(campaigns: Campaigns) -> list[dict]:
    return [i for i in campaigns.items("CONTACT#") if i["sk"] == "PREFS"]


def test_pages_bad_requests_and_tampered_tokens_change_nothing(mailed):
    campaigns, _, token = mailed
    before = campaigns.stack.table_items(Env.CAMPAIGNS_TABLE)
    page = campaigns.stack.call("GET", "/unsubscribe", query={"token": token})
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'name="List-Unsubscribe" value="One-Click"' in page.body and "newsletter" in page.body
    assert 'href="/prod/preferences?token=' in page.body
    # RFC 8058's body, the token and known topics are required, each named when missing or wrong
    wrong = campaigns.stack.call("POST", "/unsubscribe", "List-Unsubscribe=Maybe", FORM, query={"token": token})
    assert (wrong.status, wrong.json["errors"][0]["field"]) == (400, "List-Unsubscribe")
    missing = campaigns.stack.call("POST", "/unsubscribe", ONE_CLICK, FORM)
    assert (missing.status, missing.json["errors"][0]["field"]) == (422, "token")
    unknown = campaigns.stack.call("POST", "/preferences", {"token": token, "subscribed": ["socks"]})
    assert (unknown.status, unknown.json["errors"][0]["field"]) == (422, "subscribed")
    # a tampered token: a page for people, the JSON error for JSON clients, and nothing changes
    body, mac = token.split(".")
    tampered = f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    as_page = campaigns.stack.call("POST", "/unsubscribe", ONE_CLICK, FORM, query={"token": tampered})
    assert as_page.status == 400 and "This link does not work" in as_page.body
    as_json = campaigns.stack.call(
        "POST", "/unsubscribe", ONE_CLICK, FORM, query={"token": tampered}, headers={"Accept": "application/json"}
    )
    assert as_json.status == 400
    assert as_json.json["errors"] == [{"field": "token", "message": "signature does not match"}]
    assert campaigns.stack.call("GET", "/preferences", query={"token": tampered}).status == 400
    assert campaigns.stack.table_items(Env.CAMPAIGNS_TABLE) == before
    assert "ContactUnsubscribed.v1" not in campaigns.stack.bus_detail_types()


def test_one_click_unsubscribes_the_topic_once_and_the_next_campaign_skips(mailed):
    campaigns, cid, token = mailed
    for _ in range(2):  # a mail client retries: same answer, one change
        answer = campaigns.stack.call("POST", "/unsubscribe", ONE_CLICK, FORM, query={"token": token})
        assert answer.status == 200 and "no more <b>newsletter</b> mail" in answer.body
    (prefs,) = _prefs(campaigns)
    assert prefs["unsubscribed"] == ["newsletter"]
    assert campaigns.stack.bus_detail_types().count("ContactUnsubscribed.v1") == 1
    assert campaigns.stats(cid)["unsubscribed"] == 1
    newsletter, _ = _mailed(campaigns)
    assert campaigns.stats(newsletter)["suppressed"] == 1 and campaigns.stats(newsletter)["sent"] == 1
    offers, _ = _mailed(campaigns, topic="offers")  # another topic still reaches her
    assert campaigns.stats(offers)["sent"] == 2


def test_the_preferences_page_keeps_the_ticked_topics(mailed):
    campaigns, _, token = mailed
    page = campaigns.stack.call("GET", "/preferences", query={"token": token})
    assert page.body.count('type="checkbox" name="subscribed"') == 3 and page.body.count(" checked") == 3
    form = f"token={token}&subscribed=newsletter&subscribed=loyalty"
    saved = campaigns.stack.call("POST", "/preferences", form, FORM)
    assert saved.status == 200 and "Your choices are saved" in saved.body
    as_json = campaigns.stack.call(
        "GET", "/preferences", query={"token": token}, headers={"Accept": "application/json"}
    )
    assert {t["topic"]: t["subscribed"] for t in as_json.json["topics"]} == {
        "newsletter": True,
        "offers": False,
        "loyalty": True,
    }
    everything = campaigns.stack.call("POST", "/preferences", {"token": token, "unsubscribe_all": True})
    assert everything.json["unsubscribed_all"] is True
    (prefs,) = _prefs(campaigns)
    assert "all" in prefs["unsubscribed"] and prefs["version"] == 2


def test_erasure_leaves_only_ids_in_campaign_data(mailed):
    campaigns, cid, token = mailed
    campaigns.stack.call("POST", "/unsubscribe", ONE_CLICK, FORM, query={"token": token})
    ann = campaigns.contacts.get("0" * 31 + "1")
    assert ann is not None
    answer = campaigns.stack.call("DELETE", f"/contacts/{ann.id}", roles="admin")
    assert answer.status == 204
    campaigns.pump()
    kept = [i for i in campaigns.items(f"CONTACT#{ann.id}")]
    assert [i["sk"] for i in kept] == [f"MAIL#campaign#{cid}#once"]  # the send record, ids and times only
    assert not any(ann.email in json.dumps(i, default=str) for i in campaigns.stack.table_items(Env.CAMPAIGNS_TABLE))
    # A link from an old mail still answers, and writes nothing back.
    again = campaigns.stack.call("POST", "/unsubscribe", ONE_CLICK, FORM, query={"token": token})
    assert again.status == 200
    assert [i["sk"] for i in campaigns.items(f"CONTACT#{ann.id}")] == [f"MAIL#campaign#{cid}#once"]
    count = campaigns.stack.call(
        "POST", "/segments/preview", {"rules": {"include": [{"kind": "tag", "any_of": ["vip"]}]}}, roles="marketer"
    )
    assert count.json["count"] == 1
