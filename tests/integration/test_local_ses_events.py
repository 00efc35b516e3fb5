"""integration: mail to SES's mailbox simulator produces the events SES would put on the default bus."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import boto3
from ecrm.adapters.ses import SesMailer
from ecrm.clock import FixedClock
from ecrm.mail import Mail
from ecrm_local import outbox, resources, ses_events

from tests.support import Stack


def _tap_default_bus() -> str:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="ses-tap")["QueueUrl"]
    arn = resources.queue_arn(boto3.session.Session(), url)
    events.put_rule(Name="ses-tap", EventPattern=json.dumps({"source": ["aws.ses"]}))
    events.put_targets(Rule="ses-tap", Targets=[{"Id": "tap", "Arn": arn}])
    return url


def _drain(url: str) -> list[dict]:
    sqs, got = boto3.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        got += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    return got


def test_simulator_addresses_bounce_complain_or_deliver_once(stack: Stack):
    clock = FixedClock(datetime(2030, 5, 1, 8, 0, tzinfo=UTC))
    outbox.install(clock)
    tap = _tap_default_bus()
    context = resources.local_context()
    mailer = SesMailer(boto3.client("sesv2"), context["senderAddress"], context["sesConfigurationSet"])
    ids = {
        to: mailer.send(Mail(to=to, subject="Hi", text="t", html="<p>h</p>", headers={"X-SES-MESSAGE-TAGS": "c=42"}))
        for to in (
            "bounce@simulator.amazonses.com",
            "complaint@simulator.amazonses.com",
            "success@simulator.amazonses.com",
            "someone@example.com",
        )
    }
    publisher = ses_events.SesEventPublisher(boto3.session.Session(), clock, context["sesConfigurationSet"])
    assert publisher.flush() == 4
    assert publisher.flush() == 0  # each mail's events are published once
    events = _drain(tap)
    by_message = Counter((e["detail"]["mail"]["messageId"], e["detail-type"]) for e in events)
    assert by_message == Counter(
        {
            (ids["bounce@simulator.amazonses.com"], "Email Sent"): 1,
            (ids["bounce@simulator.amazonses.com"], "Email Bounced"): 1,
            (ids["complaint@simulator.amazonses.com"], "Email Sent"): 1,
            (ids["complaint@simulator.amazonses.com"], "Email Delivered"): 1,
            (ids["complaint@simulator.amazonses.com"], "Email Complaint Received"): 1,
            (ids["success@simulator.amazonses.com"], "Email Sent"): 1,
            (ids["success@simulator.amazonses.com"], "Email Delivered"): 1,
            (ids["someone@example.com"], "Email Sent"): 1,
            (ids["someone@example.com"], "Email Delivered"): 1,
        }
    )
    (bounce,) = [e["detail"] for e in events if e["detail-type"] == "Email Bounced"]
    assert bounce["eventType"] == "Bounce" and bounce["bounce"]["bounceType"] == "Permanent"
    assert bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] == "bounce@simulator.amazonses.com"
    assert bounce["mail"]["tags"]["c"] == ["42"]
    assert bounce["mail"]["tags"]["ses:configuration-set"] == [context["sesConfigurationSet"]]
    assert all(e["source"] == "aws.ses" for e in events)


def test_a_simulated_open_and_click_are_the_events_campaign_feedback_reads(stack: Stack):
    from ecrm.campaigns.feedback import Mark, SesEvent, effects
    from ecrm.campaigns.models import SendKey

    clock = FixedClock(datetime(2030, 5, 1, 8, 0, tzinfo=UTC))
    outbox.install(clock)
    tap = _tap_default_bus()
    context = resources.local_context()
    mailer = SesMailer(boto3.client("sesv2"), context["senderAddress"], context["sesConfigurationSet"])
    tags = "ecrm_campaign=c1,ecrm_contact=k1,ecrm_run=r1"
    message_id = mailer.send(
        Mail(to="ann@example.com", subject="Hi", text="t", html="<p>h</p>", headers={"X-SES-MESSAGE-TAGS": tags})
    )
    publisher = ses_events.SesEventPublisher(boto3.session.Session(), clock, context["sesConfigurationSet"])
    publisher.engage(message_id, "Open")
    publisher.engage(message_id, "Click", "https://shop.example.org/sale")
    events = [e for e in _drain(tap) if e["detail-type"] in ("Email Opened", "Email Clicked")]
    assert [e["detail-type"] for e in events] == ["Email Opened", "Email Clicked"]
    assert events[1]["detail"]["click"]["link"] == "https://shop.example.org/sale"
    parsed = [SesEvent.model_validate(e) for e in events]
    assert all(p.detail.mail.message_id == message_id for p in parsed)
    marks = [effect for p in parsed for effect in effects(p)]
    assert [m.engagement for m in marks if isinstance(m, Mark)] == ["opened", "clicked"]
    assert all(isinstance(m, Mark) and isinstance(m.key, SendKey) for m in marks)
