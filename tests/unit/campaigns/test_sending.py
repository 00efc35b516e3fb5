"""unit: the sender — suppression before every send, and a send record that makes each
(campaign, run, contact) at most one mail under redelivery, concurrency and crashes."""

from datetime import timedelta

import pytest
from ecrm.campaigns.errors import MailOutcomeUnknown, MailRejected, MailThrottled, SendingPaused
from ecrm.campaigns.models import Suppression, address_key
from ecrm.campaigns.sending import TAG_CAMPAIGN, TAG_CONTACT, TAG_RUN, SenderConfig

from tests.unit.campaigns.fakes import Crash
from tests.unit.campaigns.world import World, make_contact, ses_event


@pytest.fixture
def world():
    return World()


def live_campaign(world, **extra):
    """A one-off campaign whose run has started (so batches are accepted), and its id."""
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment(), **extra)
    world.service.schedule(cid)
    world.clock.advance(3600)
    world.fire_timers()
    world.queue.drain()  # the planner's own batches: the tests hand-craft theirs
    return cid


def test_sends_once_with_one_click_headers_tags_and_escaped_html(world):
    ann = make_contact(1, first_name="<b>Ann</b>")
    world.add_contacts(ann)
    cid = live_campaign(world)
    result = world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline())
    assert result.outcomes == {ann.id: "sent"}
    ((mail, tags),) = world.ses.sent
    assert mail.to == "c1@example.com"
    assert "Hello &lt;b&gt;Ann&lt;/b&gt;" in mail.html and "Hello <b>Ann</b>" in mail.text
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith("<https://mail.example.com/unsubscribe?token=")
    assert mail.headers["List-Unsubscribe"].endswith(", <mailto:unsub@example.com?subject=unsubscribe>")
    assert tags == {TAG_CAMPAIGN: cid, TAG_RUN: "once", TAG_CONTACT: ann.id}
    record = world.records.records[next(iter(world.records.records))]
    assert (record.status, record.message_id) == ("sent", "ses-1")
    assert world.stats.get(cid).total.sent == 1


def test_redelivered_batch_sends_nothing_twice(world):
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 6)))
    cid = live_campaign(world)
    batch = world.one_batch(*(c.id for c in contacts), campaign_id=cid)
    first = world.sender().send(batch, world.deadline())
    second = world.sender().send(batch, world.deadline())
    assert first.ids("sent") == [c.id for c in contacts]
    assert second.ids("done") == [c.id for c in contacts] and second.complete
    assert len(world.ses.sent) == 5 and world.stats.get(cid).total.sent == 5


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda w, c: w.contacts.contacts.pop(c.id), "erased"),
        (
            lambda w, c: w.suppressions.add(
                c.email, Suppression(address_key=address_key(c.email), reason="bounced", at=w.clock.now())
            ),
            "bounced",
        ),
        (
            lambda w, c: w.suppressions.add(
                c.email, Suppression(address_key=address_key(c.email), reason="complained", at=w.clock.now())
            ),
            "complained",
        ),
        (
            lambda w, c: w.contacts.add(
                c.model_copy(update={"consent": c.consent.model_copy(update={"status": "pending"})})
            ),
            "no_consent",
        ),
        (
            lambda w, c: w.preferences.save(
                w.preferences.get(c.id).model_copy(update={"unsubscribed": frozenset({"newsletter"}), "version": 1}), 0
            ),
            "unsubscribed",
        ),
        (
            lambda w, c: w.preferences.save(
                w.preferences.get(c.id).model_copy(update={"unsubscribed": frozenset({"all"}), "version": 1}), 0
            ),
            "unsubscribed",
        ),
    ],
)
def test_suppressed_recipients_get_no_mail(world, setup, reason):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    setup(world, ann)
    result = world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline())
    assert result.outcomes == {ann.id: "skipped"}
    assert world.ses.calls == 0
    (record,) = world.records.records.values()
    assert (record.status, record.reason) == ("skipped", reason)
    assert world.stats.get(cid).total.suppressed == 1


def test_unsubscribing_one_topic_keeps_the_others(world):
    ann = world.add_contacts(make_contact(1))[0]
    world.preferences.save(
        world.preferences.get(ann.id).model_copy(update={"unsubscribed": frozenset({"offers"}), "version": 1}), 0
    )
    newsletter = live_campaign(world)
    offers = live_campaign(world, topic="offers")
    assert (
        world.sender().send(world.one_batch(ann.id, campaign_id=newsletter), world.deadline()).outcomes[ann.id]
        == "sent"
    )
    assert (
        world.sender().send(world.one_batch(ann.id, campaign_id=offers), world.deadline()).outcomes[ann.id] == "skipped"
    )


def test_crash_after_ses_accepted_never_sends_twice(world):
    ann, bob = world.add_contacts(make_contact(1), make_contact(2))
    cid = live_campaign(world)
    batch = world.one_batch(ann.id, bob.id, campaign_id=cid)
    world.ses.script = ["crash-after"]  # SES takes Ann's mail, then the Lambda dies
    with pytest.raises(Crash):
        world.sender().send(batch, world.deadline())
    assert world.ses.to() == ["c1@example.com"]

    early = world.sender().send(batch, world.deadline())  # redelivered within the lease
    assert early.outcomes == {ann.id: "retry", bob.id: "sent"} and not early.complete

    world.clock.advance(world.config.lease.total_seconds() + 1)
    late = world.sender().send(batch, world.deadline())  # after the lease: in doubt, not resent
    assert late.outcomes == {ann.id: "unknown", bob.id: "done"} and late.complete
    assert world.ses.to() == ["c1@example.com", "c2@example.com"]  # Ann exactly once
    assert world.stats.get(cid).total.model_dump(include={"sent", "unknown"}) == {"sent": 1, "unknown": 1}

    again = world.sender().send(batch, world.deadline())
    assert again.outcomes == {ann.id: "done", bob.id: "done"} and world.ses.calls == 2


def test_ses_sent_event_settles_the_in_doubt_record(world):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    batch = world.one_batch(ann.id, campaign_id=cid)
    world.ses.script = ["crash-after"]
    with pytest.raises(Crash):
        world.sender().send(batch, world.deadline())
    world.clock.advance(world.config.lease.total_seconds() + 1)
    world.sender().send(batch, world.deadline())
    ((_, tags),) = world.ses.sent
    world.feedback.handle(ses_event("Send", "ses-1", tags))
    (record,) = world.records.records.values()
    assert (record.status, record.message_id) == ("sent", "ses-1")
    assert world.stats.get(cid).total.model_dump(include={"sent", "unknown"}) == {"sent": 1, "unknown": 0}


def test_crash_before_ses_is_reached_is_at_most_once_too(world):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    world.ses.script = [Crash("died between claim and SES call")]
    with pytest.raises(Crash):
        world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline())
    world.clock.advance(world.config.lease.total_seconds() + 1)
    result = world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline())
    # Indistinguishable from a crash after SES accepted: recorded as unknown, not sent.
    assert result.outcomes == {ann.id: "unknown"} and world.ses.sent == []


def test_throttling_is_retried_with_backoff_and_never_dropped(world):
    ann, bob = world.add_contacts(make_contact(1), make_contact(2))
    cid = live_campaign(world)
    world.ses.script = [MailThrottled("Maximum sending rate exceeded."), MailThrottled("again")]
    result = world.sender().send(world.one_batch(ann.id, bob.id, campaign_id=cid), world.deadline())
    assert result.outcomes == {ann.id: "sent", bob.id: "sent"}
    assert world.ses.calls == 4 and len(world.clock.slept) >= 2  # two backoff sleeps


def test_persistent_throttling_hands_the_message_back(world):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    world.ses.script = [MailThrottled("slow down")] * 50
    batch = world.one_batch(ann.id, campaign_id=cid)
    result = world.sender().send(batch, world.deadline())
    assert result.outcomes == {ann.id: "retry"} and not result.complete
    assert world.records.records == {}  # claim released: the redelivery may send
    world.ses.script = []
    assert world.sender().send(batch, world.deadline()).outcomes == {ann.id: "sent"}


def test_sending_paused_stops_the_batch_and_keeps_the_rest(world):
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 4)))
    cid = live_campaign(world)
    world.ses.script = [None, SendingPaused("daily quota used up")]
    result = world.sender().send(world.one_batch(*(c.id for c in contacts), campaign_id=cid), world.deadline())
    assert list(result.outcomes.values()) == ["sent", "retry", "retry"]
    assert [r.status for r in world.records.records.values()] == ["sent"]


def test_rejected_mail_fails_for_good_and_unknown_outcome_is_not_retried(world):
    ann, bob = world.add_contacts(make_contact(1), make_contact(2))
    cid = live_campaign(world)
    world.ses.script = [MailRejected("Email address is not verified."), MailOutcomeUnknown("read timeout")]
    batch = world.one_batch(ann.id, bob.id, campaign_id=cid)
    assert world.sender().send(batch, world.deadline()).outcomes == {ann.id: "failed", bob.id: "unknown"}
    assert world.sender().send(batch, world.deadline()).outcomes == {ann.id: "done", bob.id: "done"}
    assert world.ses.calls == 2
    total = world.stats.get(cid).total
    assert (total.failed, total.unknown, total.sent) == (1, 1, 0)


def test_no_claim_is_made_when_time_is_nearly_up(world):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    result = world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline(seconds=10))
    assert result.outcomes == {ann.id: "retry"} and world.records.records == {} and world.ses.calls == 0


def test_batches_of_a_paused_or_cancelled_campaign_are_dropped(world):
    ann = world.add_contacts(make_contact(1))[0]
    cid = live_campaign(world)
    world.service.pause(cid)
    result = world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline())
    assert result.dropped and result.complete and world.ses.calls == 0
    world.service.cancel(cid)
    assert world.sender().send(world.one_batch(ann.id, campaign_id=cid), world.deadline()).dropped


def test_concurrent_senders_send_each_recipient_once():
    from concurrent.futures import ThreadPoolExecutor

    world = World(rate=1000)
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 41)))
    cid = live_campaign(world)
    batch = world.one_batch(*(c.id for c in contacts), campaign_id=cid)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: world.sender().send(batch, world.deadline()), range(8)))
    sent = [cid_ for r in results for cid_ in r.ids("sent")]
    assert sorted(sent) == sorted(c.id for c in contacts)  # every one, by exactly one sender
    assert len(world.ses.sent) == 40


def test_sender_config_margin_is_respected():
    assert SenderConfig().lease > SenderConfig().margin > timedelta(0)
