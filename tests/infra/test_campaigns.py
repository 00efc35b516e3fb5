"""infra: what is specific to campaigns: SES events reach the default bus and its rule, the sender is
capped and alone may send mail, the plan queue takes Scheduler's timers, and the mail alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ecrm.campaigns.feedback import DETAIL_TYPES, SOURCE
from ecrm.campaigns.names import Resource
from ecrm.campaigns.sending import SenderConfig
from ecrm_infra import topology
from ecrm_infra.topology.campaigns import CAMPAIGNS, SENDER_SHAPE
from ecrm_infra.topology.send_shape import SenderShape, sender_shape

from tests.infra.synth import Synth, ref_id, synthesize
from tests.infra.test_iam import _actions, _role_id, _statements


def _mapping(synth: Synth, fn: topology.Function) -> dict[str, Any]:
    (found,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": synth.function_id(fn)}
    ]
    return found


def test_the_configuration_set_publishes_every_mail_event_we_read_to_the_default_bus(synth: Synth) -> None:
    (destination,) = synth.resources("AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    (config_set_id,) = synth.resources("AWS::SES::ConfigurationSet")
    assert props["ConfigurationSetName"] == {"Ref": config_set_id}
    target = props["EventDestination"]
    assert target["Enabled"] is True
    assert "".join(
        p for p in target["EventBridgeDestination"]["EventBusArn"]["Fn::Join"][1] if isinstance(p, str)
    ).endswith(":event-bus/default")
    assert set(target["MatchingEventTypes"]) == {"send", "delivery", "bounce", "complaint", "open", "click"}


def test_the_ses_events_rule_listens_on_the_default_bus_and_feeds_the_feedback_queue(synth: Synth) -> None:
    feedback = topology.function("campaign_feedback")
    queue_arn = _mapping(synth, feedback)["EventSourceArn"]
    (rule,) = [  # the feedback queue's; the contact 360's timeline hears SES on the default bus too
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if r["Properties"]["EventBusName"] == "default" and r["Properties"]["Targets"][0]["Arn"] == queue_arn
    ]
    assert rule["EventPattern"] == {"source": [SOURCE], "detail-type": list(DETAIL_TYPES)}
    (target,) = rule["Targets"]
    assert target["Arn"] == queue_arn and "DeadLetterConfig" in target
    rule_id = next(k for k, r in synth.resources("AWS::Events::Rule").items() if r["Properties"] is rule)
    allowed = [
        s
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": ref_id(queue_arn)} in p["Properties"]["Queues"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert any(
        s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
        for s in allowed
    )


def _assert_sender_shaped(synth: Synth, shape: SenderShape) -> None:
    sender = topology.function("campaign_sender")
    mapping = _mapping(synth, sender)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": shape.concurrency}
    assert mapping["BatchSize"] == shape.batch_size == 1
    function = synth.props(synth.function_id(sender))
    assert function["Timeout"] == shape.timeout_seconds
    assert function["Environment"]["Variables"]["SENDER_LANES"] == str(shape.lanes)
    assert function["MemorySize"] == shape.memory_mb
    assert function["ReservedConcurrentExecutions"] == shape.concurrency  # no other function starves it
    queue = synth.props(ref_id(mapping["EventSourceArn"]))
    assert queue["VisibilityTimeout"] == shape.visibility_timeout_seconds == 6 * shape.timeout_seconds
    # A redelivered batch must come back after the claim's lease, or a live sender's claim could be
    # taken for a dead one (docs/campaigns.md, exactly once).
    assert queue["VisibilityTimeout"] > SenderConfig().lease.total_seconds()
    assert function["Timeout"] > 4 * SenderConfig().margin.total_seconds()


def test_senders_are_shaped_for_the_default_ceiling_and_outlive_their_claims(synth: Synth) -> None:
    # campaignSendRate 0 (the account's quota): shaped for campaignMaxSendRate, 14/s by default.
    assert sender_shape(14) == SENDER_SHAPE
    _assert_sender_shaped(synth, SENDER_SHAPE)


@pytest.fixture(scope="module")
def synth_at_1000(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(Path(tmp_path_factory.mktemp("cdk-rate-1000")), campaignSendRate="1000")


def test_a_configured_rate_shapes_the_sender(synth_at_1000: Synth) -> None:
    shape = sender_shape(1000)
    assert (shape.concurrency, shape.lanes, shape.memory_mb) == (20, 8, 1024)
    _assert_sender_shaped(synth_at_1000, shape)
    env = synth_at_1000.props(synth_at_1000.function_id(topology.function("campaign_sender")))["Environment"]
    assert env["Variables"]["SEND_RATE_PER_SECOND"] == "1000"
    # Every other function is deployed as declared.
    planner = synth_at_1000.props(synth_at_1000.function_id(topology.function("campaign_planner")))
    assert "ReservedConcurrentExecutions" not in planner


def test_only_the_sender_sends_mail_and_only_it_reads_the_quota(synth: Synth) -> None:
    for fn in CAMPAIGNS.functions:
        actions = _actions(_statements(synth, _role_id(synth, fn)))
        mail = {a for a in actions if a.startswith("ses:")}
        assert mail == ({"ses:SendEmail", "ses:GetSendQuota"} if fn.name == "campaign_sender" else set())


def test_the_plan_queue_takes_schedulers_timers(synth: Synth) -> None:
    planner = topology.function("campaign_planner")
    queue_id = ref_id(_mapping(synth, planner)["EventSourceArn"])
    (role_id,) = [k for k, r in synth.resources("AWS::IAM::Role").items() if k.startswith("PlatformSchedulerRole")]
    statements = _statements(synth, role_id)
    assert any(
        "sqs:SendMessage" in _actions([s])
        and {"Fn::GetAtt": [queue_id, "Arn"]} in ([s["Resource"]] if isinstance(s["Resource"], dict) else s["Resource"])
        for s in statements
    )
    assert Resource.CAMPAIGN_PLAN_QUEUE in {t.queue for t, _ in topology.queue_triggers() if t.scheduler_target}


def test_mail_alarms_watch_unknown_outcomes_complaints_and_bounces(synth: Synth) -> None:
    alarmed = {
        a["Properties"]["MetricName"]: a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    for spec in CAMPAIGNS.alarms:
        alarm = alarmed[spec.metric]
        assert (alarm["Namespace"], alarm["Threshold"], alarm["Period"]) == (
            "eCRM",
            spec.threshold,
            spec.period_minutes * 60,
        )
    assert alarmed["MailOutcomeUnknown"]["Threshold"] == 0
