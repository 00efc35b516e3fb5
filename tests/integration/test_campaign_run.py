"""integration: campaigns from the API to the outbox under moto, every function in-process: scheduled,
recurring, triggered and A/B runs, suppression by SES feedback, redelivery and a crash mid-send."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from ecrm.campaigns.adapters.dynamo_sends import DynamoSendRecords
from ecrm.campaigns.names import Resource
from ecrm.clock import SYSTEM_CLOCK
from ecrm_local import resources

from tests.integration.campaigns_support import SEND_QUEUE, Campaigns


def _send_run(campaigns: Campaigns, segment: str, **extra: Any) -> str:
    cid = campaigns.campaign(campaigns.one_off_in(1), segment, **extra)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump()
    return cid


def test_scheduled_campaign_mails_each_eligible_contact_once(campaigns: Campaigns):
    ann = campaigns.contact(1, tags=("vip",))
    bob = campaigns.contact(2, tags=("vip",), first_name="<b>Bob</b>")
    campaigns.contact(3, tags=("vip",), consent=False)
    campaigns.contact(4)  # not in the segment
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    count = campaigns.stack.call("GET", f"/segments/{segment}/count", roles="marketer").json
    assert count == {"count": 2, "driving_partitions": ["SEG#tag#vip"]}
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    assert campaigns.action(cid, "schedule")["status"] == "scheduled"
    campaigns.pump()
    assert campaigns.mail() == []  # nothing before its time
    campaigns.advance(3601)
    campaigns.pump()
    assert sorted(m["to"][0] for m in campaigns.mail()) == [ann.email, bob.email]
    (bob_mail,) = campaigns.mail(bob.email)
    assert "Hi &lt;b&gt;Bob&lt;/b&gt;" in bob_mail["html"] and "Hi <b>Bob</b>" in bob_mail["text"]
    assert bob_mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert bob_mail["headers"]["List-Unsubscribe"].startswith("<http://localhost:3000/unsubscribe?token=")
    assert f"ecrm_campaign={cid}" in bob_mail["headers"]["X-SES-MESSAGE-TAGS"]
    stats = campaigns.stats(cid)
    assert (stats["targeted"], stats["sent"], stats["delivered"]) == (2, 2, 2)
    assert campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json["status"] == "sent"
    assert "CampaignSent.v1" in campaigns.stack.bus_detail_types()


def test_a_simulator_bounce_or_complaint_suppresses_the_address_for_the_next_campaign(campaigns: Campaigns):
    campaigns.contact(1, email="bounce@simulator.amazonses.com", tags=("all",))
    campaigns.contact(2, email="complaint@simulator.amazonses.com", tags=("all",))
    campaigns.contact(3, email="success@simulator.amazonses.com", tags=("all",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["all"]}])
    first = _send_run(campaigns, segment)
    assert len(campaigns.mail()) == 3
    stats = campaigns.stats(first)
    assert (stats["sent"], stats["bounced"], stats["complained"], stats["delivered"]) == (3, 1, 1, 2)
    assert Counter(campaigns.stack.bus_detail_types())["MailSuppressed.v1"] == 2
    preview = campaigns.stack.call("GET", f"/segments/{segment}/count", roles="marketer").json
    assert preview["count"] == 1  # the suppressed members left the index's mailable partition
    second = _send_run(campaigns, segment)
    assert [m["to"][0] for m in campaigns.mail()[3:]] == ["success@simulator.amazonses.com"]
    assert (campaigns.stats(second)["targeted"], campaigns.stats(second)["sent"]) == (1, 1)
    suppressed = campaigns.items("SUPPRESS#")
    assert sorted(i["reason"] for i in suppressed) == ["bounced", "complained"]
    assert not any("simulator" in json.dumps(i, default=str) for i in suppressed)  # hashed, not in clear


def test_a_redelivered_batch_sends_nothing_twice(campaigns: Campaigns):
    for n in range(1, 4):
        campaigns.contact(n, tags=("vip",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump(only={"campaign_planner"})
    (batch,) = campaigns.queued(SEND_QUEUE)
    url = resources.queue_url(campaigns.session, SEND_QUEUE)
    campaigns.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(batch))  # SQS delivers it twice
    campaigns.pump()
    assert len(campaigns.mail()) == 3
    assert campaigns.stats(cid)["sent"] == 3


def test_a_crash_between_ses_and_completion_never_sends_twice(campaigns: Campaigns, monkeypatch):
    ann = campaigns.contact(1, tags=("vip",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    real_complete = DynamoSendRecords.complete

    def die(*_: Any) -> None:
        raise RuntimeError("the sender died after SES accepted the mail")

    monkeypatch.setattr(DynamoSendRecords, "complete", die)
    campaigns.pump(rounds=2, only={"campaign_planner", "campaign_sender"}, until_quiet=False)
    monkeypatch.setattr(DynamoSendRecords, "complete", real_complete)
    assert len(campaigns.mail(ann.email)) == 1
    # Redelivered inside the claim's lease: a concurrent sender may be at it, so wait, send nothing.
    campaigns.pump(rounds=1, only={"campaign_sender"}, until_quiet=False)
    assert len(campaigns.mail(ann.email)) == 1
    # After the lease: the claimer is gone and nobody knows whether SES took it; settle, never resend.
    campaigns.advance(6 * 60)
    campaigns.pump(only={"campaign_sender"})
    assert len(campaigns.mail(ann.email)) == 1
    assert (campaigns.stats(cid)["unknown"], campaigns.stats(cid)["sent"]) == (1, 0)
    # SES's "Email Sent" event (tags name the send) settles the truth: sent.
    campaigns.pump()
    totals = campaigns.stats(cid)
    assert (totals["unknown"], totals["sent"], len(campaigns.mail())) == (0, 1, 1)


def test_triggered_welcome_goes_once_per_contact_and_a_delayed_one_later(campaigns: Campaigns):
    ann = campaigns.contact(1)
    welcome = campaigns.campaign({"kind": "triggered", "detail_type": "ConsentConfirmed.v1"}, topic="welcome")
    later = campaigns.campaign(
        {"kind": "triggered", "detail_type": "ConsentConfirmed.v1", "delay_minutes": 30}, topic="tips"
    )
    assert campaigns.action(welcome, "schedule")["status"] == "sending"
    campaigns.action(later, "schedule")
    confirmed = {"contact_id": ann.id, "request_id": "r1", "text_version": "v1", "occurred_at": "2026-11-24T09:00:00Z"}
    for _ in range(2):  # confirmed twice (a repeated event, or a second request): one welcome
        campaigns.put_event("ecrm.contacts", "ConsentConfirmed.v1", confirmed)
        campaigns.pump()
    assert len(campaigns.mail(ann.email)) == 1
    campaigns.advance(31 * 60)
    campaigns.pump()
    assert len(campaigns.mail(ann.email)) == 2
    assert campaigns.stats(welcome)["sent"] == 1 and campaigns.stats(later)["sent"] == 1
    assert campaigns.stats(welcome)["targeted"] == 1  # counted by its send record, once


def test_a_tier_change_congratulates_the_member_and_moves_it_between_tier_segments(campaigns: Campaigns):
    ann = campaigns.contact(1)
    campaigns.contact(2)
    campaigns.pump()
    congrats = campaigns.campaign(
        {"kind": "triggered", "detail_type": "TierChanged.v1", "match": {"to_tier": "gold"}}, topic="loyalty"
    )
    campaigns.action(congrats, "schedule")
    changed = {"member_id": ann.id, "from_tier": "silver", "to_tier": "gold", "direction": "up", "tier_version": 2}
    campaigns.put_event("ecrm.loyalty", "TierChanged.v1", {**changed, "occurred_at": "2026-11-24T09:00:00Z"})
    campaigns.pump()
    assert [m["to"][0] for m in campaigns.mail()] == [ann.email]
    gold = campaigns.stack.call(
        "POST", "/segments/preview", {"rules": {"include": [{"kind": "tier", "any_of": ["Gold"]}]}}, roles="marketer"
    ).json
    assert gold == {"count": 1, "driving_partitions": ["SEG#tier#gold"]}


def test_ab_test_sends_the_opened_subject_to_the_rest(campaigns: Campaigns):
    for n in range(1, 25):
        campaigns.contact(n, tags=("ab",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["ab"]}])
    ab = {"subjects": ["A {{ first_name }}", "B plain"], "sample_fraction": 0.5, "window_hours": 2}
    cid = _send_run(campaigns, segment, ab=ab)
    sample = campaigns.mail()
    assert 3 < len(sample) < 21 and {m["subject"][0] for m in sample} == {"A", "B"}
    events = boto3.client("events")
    for mail in sample:
        if mail["subject"].startswith("B"):  # B's readers open their mail
            tags = dict(pair.split("=") for pair in mail["headers"]["X-SES-MESSAGE-TAGS"].split(", "))
            detail = {
                "eventType": "Open",
                "mail": {"messageId": f"m-{tags['ecrm_contact']}", "tags": {k: [v] for k, v in tags.items()}},
                "open": {"timestamp": SYSTEM_CLOCK.now().isoformat()},
            }
            events.put_events(
                Entries=[{"Source": "aws.ses", "DetailType": "Email Opened", "Detail": json.dumps(detail)}]
            )
    campaigns.pump()  # the opens are in before the window closes
    campaigns.advance(2 * 3600 + 60)
    campaigns.pump()
    campaign = campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json
    assert (campaign["ab_winner"], campaign["status"]) == (1, "sent")
    rest = campaigns.mail()[len(sample) :]
    assert len(sample) + len(rest) == 24 and {m["subject"] for m in rest} == {"B plain"}
    assert Counter(m["to"][0] for m in campaigns.mail()).most_common(1)[0][1] == 1
    stats = campaigns.stack.call("GET", f"/campaigns/{cid}/stats", roles="marketer").json
    assert stats["variants"]["1"]["opened"] > 0 and stats["variants"]["0"]["opened"] == 0


def test_recurring_campaign_owns_a_cron_schedule_in_its_zone_and_cancel_removes_it(campaigns: Campaigns):
    campaigns.contact(1, tags=("weekly",))
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["weekly"]}])
    schedule = {"kind": "recurring", "cron": "0 9 ? * TUE *", "timezone": "Europe/Berlin"}
    cid = campaigns.campaign(schedule, segment)
    campaigns.action(cid, "schedule")
    scheduler = boto3.client("scheduler")
    group = resources.physical_name(Resource.CAMPAIGN_SCHEDULES)
    found = scheduler.get_schedule(Name=f"campaign-{cid}-run", GroupName=group)
    assert (found["ScheduleExpression"], found["ScheduleExpressionTimezone"]) == (
        "cron(0 9 ? * TUE *)",
        "Europe/Berlin",
    )
    assert json.loads(found["Target"]["Input"])["occurrence"] == "<aws.scheduler.scheduled-time>"
    campaigns.firing.fire_due()  # first sight of the schedule
    campaigns.advance(8 * 86400)  # a Tuesday 09:00 in Berlin went by
    campaigns.pump()
    assert len(campaigns.mail()) == 1
    campaign = campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json
    assert (campaign["status"], campaign["runs_started"]) == ("scheduled", 1)  # waits for the next Tuesday
    campaigns.action(cid, "cancel")
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]] == []


def test_cancel_removes_a_one_off_schedule_and_nothing_is_sent(campaigns: Campaigns):
    campaigns.contact(1, tags=("vip",))
    campaigns.pump()
    cid = campaigns.campaign(campaigns.one_off_in(2), campaigns.segment([{"kind": "tag", "any_of": ["vip"]}]))
    campaigns.action(cid, "schedule")
    group = resources.physical_name(Resource.CAMPAIGN_SCHEDULES)
    found = boto3.client("scheduler").get_schedule(Name=f"campaign-{cid}-run", GroupName=group)
    at = datetime.fromisoformat(found["ScheduleExpression"].removeprefix("at(").removesuffix(")")).replace(tzinfo=UTC)
    assert abs(at - (SYSTEM_CLOCK.now() + timedelta(hours=2))) < timedelta(seconds=5)
    assert found["ActionAfterCompletion"] == "DELETE"
    campaigns.action(cid, "cancel")
    assert boto3.client("scheduler").list_schedules(GroupName=group)["Schedules"] == []
    campaigns.advance(3 * 3600)
    campaigns.pump()
    assert campaigns.mail() == []


def test_campaign_logs_carry_no_personal_data(campaigns: Campaigns, capsys, monkeypatch):
    from ecrm.observability import logger

    campaigns.contact(1, email="zebulon.secret@example.com", first_name="Zebulon", tags=("vip",))
    campaigns.contact(2, email="bounce@simulator.amazonses.com", first_name="Quirinus", tags=("vip",))
    campaigns.pump()
    lines = io.StringIO()  # the handlers' JSON log lines, whatever stream the logger was made with
    monkeypatch.setattr(logger.registered_handler, "stream", lines)
    capsys.readouterr()
    _send_run(campaigns, campaigns.segment([{"kind": "tag", "any_of": ["vip"]}]))
    campaigns.pump()
    assert len(campaigns.mail()) == 2
    logged = (lines.getvalue() + capsys.readouterr().out).lower()
    assert '"function_name":"campaign_sender"' in logged and '"function_name":"campaign_feedback"' in logged
    assert "mailsent" in logged  # the metrics (EMF) lines too
    for secret in ("zebulon", "quirinus", "bounce@simulator"):
        assert secret not in logged
