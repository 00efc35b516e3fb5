"""unit: SES events (configuration set -> EventBridge) as domain effects: suppression, counts,
per-recipient engagement; idempotent under redelivery; tolerant of fields SES adds."""

import pytest
from ecrm.campaigns.feedback import ConfirmSent, Mark, SesEvent, Suppress, effects
from ecrm.campaigns.models import SendKey, address_key

from tests.unit.campaigns.world import World, make_contact, must, ses_event


@pytest.fixture
def sent():
    """A world where Ann and Bob got campaign mail; returns (world, campaign id, tags by contact)."""
    world = World()
    ann, bob = world.add_contacts(make_contact(1, email="ann@example.com"), make_contact(2, email="bob@example.com"))
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.clock.advance(3600)
    world.run_until_quiet()
    tags = {t["ecrm_contact"]: t for _, t in world.ses.sent}
    return world, cid, tags, ann, bob


def bounce(tags, kind, address, event_id="b1"):
    event = ses_event(
        "Bounce",
        "m1",
        tags,
        bounce={
            "bounceType": kind,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
            "timestamp": "2026-11-24T09:01:00Z",
            "feedbackId": "f1",
        },
    )
    event["id"] = event_id
    return event


def test_hard_bounce_suppresses_the_address_and_counts(sent):
    world, cid, tags, ann, _ = sent
    applied = world.feedback.handle(bounce(tags[ann.id], "Permanent", "Ann@Example.com"))
    assert [type(e).__name__ for e in applied] == ["Suppress", "Mark"]
    entry = must(world.suppressions.get("ann@example.com"))
    assert (entry.reason, entry.contact_id, entry.address_key) == ("bounced", ann.id, address_key("ann@example.com"))
    assert world.stats.get(cid).total.bounced == 1
    (event,) = [e for e in world.bus.events if e.detail_type == "MailSuppressed.v1"]
    assert (event.reason, event.contact_id) == ("bounced", ann.id)
    assert "ann@example.com" not in event.model_dump_json()  # ids only on the bus


def test_soft_bounce_is_counted_not_suppressed(sent):
    world, cid, tags, ann, _ = sent
    world.feedback.handle(bounce(tags[ann.id], "Transient", "ann@example.com"))
    assert world.suppressions.get("ann@example.com") is None
    assert world.stats.get(cid).total.soft_bounced == 1


def test_complaint_suppresses(sent):
    world, cid, tags, _, bob = sent
    event = ses_event(
        "Complaint",
        "m2",
        tags[bob.id],
        complaint={"complainedRecipients": [{"emailAddress": "bob@example.com"}], "complaintFeedbackType": "abuse"},
    )
    world.feedback.handle(event)
    assert must(world.suppressions.get("bob@example.com")).reason == "complained"
    assert world.stats.get(cid).total.complained == 1


def test_suppressed_address_gets_no_further_campaign_mail(sent):
    world, _, tags, ann, bob = sent
    world.feedback.handle(bounce(tags[ann.id], "Permanent", "ann@example.com"))
    second = world.campaign({"kind": "one_off", "at": "2026-11-25T09:00:00"}, world.segment())
    world.service.schedule(second)
    world.clock.advance(86400)
    world.run_until_quiet()
    assert world.ses.to().count("ann@example.com") == 1 and world.ses.to().count("bob@example.com") == 2
    assert world.stats.get(second).total.suppressed == 1


def test_engagement_counts_once_per_recipient_under_redelivery(sent):
    world, cid, tags, ann, _ = sent
    opened = ses_event("Open", "m1", tags[ann.id], open={"timestamp": "2026-11-24T10:00:00Z", "ipAddress": "192.0.2.1"})
    for event_id in ("o1", "o1", "o2"):  # redelivered, then a second open by the same person
        world.feedback.handle({**opened, "id": event_id})
    delivered = ses_event(
        "Delivery",
        "m1",
        tags[ann.id],
        delivery={"timestamp": "2026-11-24T09:00:05Z", "recipients": ["ann@example.com"]},
    )
    world.feedback.handle(delivered)
    world.feedback.handle(delivered)
    total = world.stats.get(cid).total
    assert (total.opened, total.delivered) == (1, 1)


def test_clicks_on_our_own_unsubscribe_links_are_not_engagement(sent):
    world, cid, tags, ann, bob = sent
    world.feedback.handle(
        ses_event("Click", "m1", tags[ann.id], click={"link": "https://mail.example.com/unsubscribe?token=x"})
    )
    world.feedback.handle(ses_event("Click", "m2", tags[bob.id], click={"link": "https://shop.example.com/sale"}))
    assert world.stats.get(cid).total.clicked == 1


def test_consent_mail_bounce_still_suppresses_and_finds_the_contact():
    world = World()
    ann = world.add_contacts(make_contact(1, email="ann@example.com"))[0]
    world.feedback.handle(bounce({}, "Permanent", "ann@example.com"))  # no campaign tags on it
    assert must(world.suppressions.get("ann@example.com")).contact_id == ann.id
    assert world.records.records == {}


def test_events_are_parsed_tolerantly():
    raw = ses_event(
        "Delivery",
        "m9",
        {"ecrm_campaign": "c", "ecrm_run": "once", "ecrm_contact": "k"},
        delivery={"timestamp": "2026-11-24T09:00:05Z"},
    )
    raw["detail"]["mail"]["brandNewSesField"] = {"x": 1}
    raw["detail"]["somethingElse"] = []
    raw["account"] = "123456789012"
    event = SesEvent.model_validate(raw)
    assert effects(event) == [Mark(SendKey(campaign_id="c", run_id="once", contact_id="k"), "delivered")]


@pytest.mark.parametrize(
    ("event_type", "blocks", "expected"),
    [
        ("Send", {"send": {}}, [ConfirmSent(SendKey(campaign_id="c", run_id="r", contact_id="k"), "m1")]),
        ("Reject", {"reject": {"reason": "Bad content"}}, []),
        ("DeliveryDelay", {"deliveryDelay": {"delayType": "MailboxFull"}}, []),
        (
            "Bounce",
            {"bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "not an address"}]}},
            [Mark(SendKey(campaign_id="c", run_id="r", contact_id="k"), "bounced")],
        ),
    ],
)
def test_effect_mapping(event_type, blocks, expected):
    raw = ses_event(event_type, "m1", {"ecrm_campaign": "c", "ecrm_run": "r", "ecrm_contact": "k"}, **blocks)
    assert effects(SesEvent.model_validate(raw)) == expected


def test_untagged_engagement_is_ignored():
    raw = ses_event("Open", "m1", {}, open={"timestamp": "2026-11-24T10:00:00Z"})
    assert effects(SesEvent.model_validate(raw)) == []


def test_suppression_effects_name_each_address_once_normalized():
    raw = ses_event(
        "Complaint",
        "m1",
        {},
        complaint={"complainedRecipients": [{"emailAddress": " A@Example.com "}, {"emailAddress": "b@example.com"}]},
    )
    assert effects(SesEvent.model_validate(raw)) == [
        Suppress("a@example.com", "complained", None),
        Suppress("b@example.com", "complained", None),
    ]
