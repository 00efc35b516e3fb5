"""infra: every queue a function consumes has a DLQ, a long enough visibility timeout, partial batch responses."""

from __future__ import annotations

import pytest
from ecrm_infra import topology

from tests.infra.synth import Synth, ref_id

QUEUED = [f for f in topology.FUNCTIONS if f.queue]


def test_the_topology_declares_queue_triggers() -> None:
    assert QUEUED, "nothing below would check anything"


def test_every_event_source_mapping_reports_batch_item_failures(synth: Synth) -> None:
    mappings = synth.resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(QUEUED) + len(topology.stream_triggers())
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("fn", QUEUED, ids=lambda f: f.name)
def test_queue_has_dlq_and_visibility_timeout_of_six_function_timeouts(synth: Synth, fn: topology.Function) -> None:
    assert fn.queue
    function_id = synth.function_id(fn)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert mapping["BatchSize"] == fn.queue.batch_size
    queue = synth.props(ref_id(mapping["EventSourceArn"]))
    timeout = synth.props(function_id)["Timeout"]
    assert timeout == fn.timeout_seconds
    assert queue["VisibilityTimeout"] >= 6 * timeout
    redrive = queue["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == fn.queue.max_receive_count
    dlq_id = ref_id(redrive["deadLetterTargetArn"])
    assert synth.template["Resources"][dlq_id]["Type"] == "AWS::SQS::Queue"
    for props in (queue, synth.props(dlq_id)):
        assert props["SqsManagedSseEnabled"] is True


def test_every_queue_denies_requests_without_tls(synth: Synth) -> None:
    denied: set[str] = set()
    for policy in synth.resources("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}:
                denied.update(ref_id(q) for q in policy["Properties"]["Queues"])
    assert denied == set(synth.resources("AWS::SQS::Queue"))


@pytest.mark.parametrize("fn", QUEUED, ids=lambda f: f.name)
def test_the_declared_rule_alone_feeds_the_queue_on_its_bus(synth: Synth, fn: topology.Function) -> None:
    assert fn.queue
    function_id = synth.function_id(fn)
    (queue_arn,) = [
        m["Properties"]["EventSourceArn"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if any(t["Arn"] == queue_arn for t in r["Properties"]["Targets"])
    ]
    if fn.queue.rule is None:  # fed by functions or by Scheduler, never by a rule
        assert rules == []
        return
    assert len(rules) == len(fn.queue.rules)  # one per declared rule (a queue may hear two buses)
    for declared in fn.queue.rules:
        (rule,) = [r for r in rules if r["EventPattern"] == declared.event_pattern]
        if declared.bus == "default":  # AWS services (SES) publish to the account's default bus only
            assert rule["EventBusName"] == "default"
        else:
            assert synth.template["Resources"][ref_id(rule["EventBusName"])]["Type"] == "AWS::Events::EventBus"
