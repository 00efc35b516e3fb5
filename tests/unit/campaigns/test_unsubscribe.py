"""unit: unsubscribe tokens, RFC 8058 headers, the one-click endpoint and the preferences page."""

from datetime import timedelta

import pytest
from ecrm.campaigns import unsubscribe
from ecrm.campaigns.models import PreferencesUpdate
from ecrm.campaigns.unsubscribe import LinkBase, UnsubscribeClaims
from ecrm.contacts.consent_mail import CONFIRM_PURPOSE
from ecrm.errors import InvalidInput, InvalidToken

from tests.unit.campaigns.world import T0, World, hex_id, make_contact


@pytest.fixture
def world():
    w = World()
    w.add_contacts(make_contact(1))
    return w


def token_for(world, topic="newsletter", contact=None, campaign="c" * 32):
    claims = UnsubscribeClaims(contact or hex_id(1), campaign, "once", topic)
    return unsubscribe.mint(world.signer, claims, world.clock.now())


def test_headers_follow_rfc_8058():
    headers = unsubscribe.headers("https://x.test/u?token=abc")
    assert headers == {
        "List-Unsubscribe": "<https://x.test/u?token=abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    with pytest.raises(ValueError, match="https"):
        LinkBase("http://x.test/u", "https://x.test/p")
    with pytest.raises(ValueError, match="https"):
        LinkBase("http://localhost.evil.test/u", "https://x.test/p")
    assert LinkBase("http://127.0.0.1:3000/unsubscribe", "http://127.0.0.1:3000/preferences")  # the local stack


def test_token_round_trip(world):
    claims = unsubscribe.read(world.signer, token_for(world, "offers"), world.clock.now())
    assert claims == UnsubscribeClaims(hex_id(1), "c" * 32, "once", "offers")


def test_tampered_expired_and_foreign_tokens_are_rejected_and_change_nothing(world):
    good = token_for(world)
    body, mac = good.split(".")
    other = world.signer.sign(
        CONFIRM_PURPOSE, {"c": hex_id(1), "m": "x", "r": "y", "t": "newsletter"}, T0 + timedelta(days=1)
    )
    forged = world.signer.sign("unsubscribe", {"c": hex_id(1)}, T0 + timedelta(days=1))  # fields missing
    bad_tokens = [body[:-2] + "xx." + mac, good[:-1] + ("A" if good[-1] != "A" else "B"), "garbage", other, forged]
    for bad in bad_tokens:
        with pytest.raises(InvalidToken):
            world.center.one_click(bad)
        with pytest.raises(InvalidToken):
            world.center.update(PreferencesUpdate(token=bad + "padding-to-length", unsubscribe_all=True))
    world.clock.advance(unsubscribe.TOKEN_TTL.total_seconds() + 1)
    with pytest.raises(InvalidToken, match="expired"):
        world.center.one_click(good)
    assert world.preferences.writes == 0
    assert "ContactUnsubscribed.v1" not in world.bus.types()


def test_one_click_unsubscribes_the_topic_once(world):
    cid = "c" * 32
    assert world.center.one_click(token_for(world, "offers", campaign=cid)) is True
    assert world.center.one_click(token_for(world, "offers", campaign=cid)) is False  # a second click
    prefs = world.preferences.get(hex_id(1))
    assert prefs.unsubscribed == {"offers"} and prefs.allows("newsletter") and not prefs.allows("offers")
    assert world.preferences.writes == 1
    (event,) = [e for e in world.bus.events if e.detail_type == "ContactUnsubscribed.v1"]
    assert (event.contact_id, event.topics, event.campaign_id) == (hex_id(1), ["offers"], cid)


def test_one_click_for_an_erased_contact_writes_nothing(world):
    world.contacts.contacts.pop(hex_id(1))
    assert world.center.one_click(token_for(world)) is False
    assert world.preferences.items == {}


def test_a_change_racing_an_erasure_keeps_nothing(world, monkeypatch):
    real_get = world.contacts.get
    calls = []

    def erased_after_the_check(contact_id):
        calls.append(contact_id)
        found = real_get(contact_id)
        world.contacts.contacts.pop(contact_id, None)  # the erasure lands right after the check
        return found

    monkeypatch.setattr(world.contacts, "get", erased_after_the_check)
    assert world.center.one_click(token_for(world)) is False
    assert calls and world.preferences.items == {} and world.bus.types() == []


def test_preferences_page_shows_without_changing(world):
    view = world.center.page(token_for(world))
    assert [(t.topic, t.subscribed) for t in view.topics] == [("newsletter", True), ("offers", True), ("loyalty", True)]
    assert world.preferences.writes == 0


def test_preferences_page_sets_topics_and_everything(world):
    token = token_for(world)
    view = world.center.update(PreferencesUpdate(token=token, subscribed=["loyalty"]))
    assert [(t.topic, t.subscribed) for t in view.topics] == [
        ("newsletter", False),
        ("offers", False),
        ("loyalty", True),
    ]
    view = world.center.update(PreferencesUpdate(token=token, subscribed=["loyalty"], unsubscribe_all=True))
    assert view.unsubscribed_all and not any(t.subscribed for t in view.topics)
    view = world.center.update(PreferencesUpdate(token=token, subscribed=["newsletter"]))
    assert not view.unsubscribed_all and [t.topic for t in view.topics if t.subscribed] == ["newsletter"]


def test_unknown_topic_on_the_page_names_the_field(world):
    with pytest.raises(InvalidInput) as caught:
        world.center.update(PreferencesUpdate(token=token_for(world), subscribed=["casino"]))
    assert caught.value.field == "subscribed" and world.preferences.writes == 0


def test_unsubscribe_from_a_sent_mail_counts_in_its_campaign_stats():
    world = World()
    ann = world.add_contacts(make_contact(1))[0]
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.clock.advance(3600)
    world.run_until_quiet()
    ((mail, _),) = world.ses.sent
    token = mail.headers["List-Unsubscribe"].split("token=")[1].split(">")[0]
    assert world.center.one_click(token) and not world.center.one_click(token)
    assert world.stats.get(cid).total.unsubscribed == 1
    assert not world.preferences.get(ann.id).allows("newsletter")
