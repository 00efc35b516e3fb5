"""infra: one role per function, holding only what the function's grants and triggers imply."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology import Access

from tests.infra.synth import Synth, ref_id

# What the test expects each grant to allow, written independently of the construct code.
BASE = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
DYNAMO_READ = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
DYNAMO_WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
SES_SEND = {"ses:SendEmail", "ses:SendRawEmail"}
UNSCOPED_READS = {"ses:GetSendQuota"}  # no resource-level permissions exist for it
BY_KIND = {
    ("table", Access.READ): DYNAMO_READ,
    ("table", Access.READ_WRITE): DYNAMO_READ | DYNAMO_WRITE,
    ("table", Access.APPEND): {"dynamodb:PutItem"},  # the Outbox: a Put in the writer's transaction
    ("queue", Access.SEND): {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
    (Resource.EVENT_BUS, Access.PUT_EVENTS): {"events:PutEvents"},
    (Resource.SIGNING_SECRET, Access.READ): {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
    (Resource.MAIL, Access.SEND_MAIL): SES_SEND,
    (Resource.MAIL, Access.SEND_BULK_MAIL): SES_SEND | UNSCOPED_READS,
    ("schedules", Access.SCHEDULE): {
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
        "iam:PassRole",
    },
}
TABLES = {t.name for t in topology.TABLES}
QUEUES = {trigger.queue for trigger, _ in topology.queue_triggers()}


def allowed(resource: str, access: Access) -> set[str]:
    kinds = {**dict.fromkeys(TABLES, "table"), **dict.fromkeys(QUEUES, "queue")}
    kinds |= dict.fromkeys(topology.SCHEDULE_GROUPS, "schedules")
    kind = kinds.get(resource, resource)
    return BY_KIND[(kind, access)]


SQS_CONSUMER = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}


# The event source mapping reads the stream with the function's role (CDK's grantStreamRead);
# ListStreams has no resource-level permission.
STREAM_CONSUMER = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def _role_id(synth: Synth, fn: topology.Function) -> str:
    return ref_id(synth.props(synth.function_id(fn))["Role"])


def _statements(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions.update([action] if isinstance(action, str) else action)
    return actions


def test_each_function_has_its_own_role_without_managed_policies(synth: Synth) -> None:
    roles = [_role_id(synth, fn) for fn in topology.FUNCTIONS]
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert not synth.props(role).get("ManagedPolicyArns")
        assert not synth.props(role).get("Policies")


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda f: f.name)
def test_role_actions_are_what_the_grants_imply(synth: Synth, fn: topology.Function) -> None:
    statements = _statements(synth, _role_id(synth, fn))
    assert all(s["Effect"] == "Allow" for s in statements)
    expected = set(BASE)
    for resource, access in fn.grants.items():
        expected |= allowed(resource, access)
    if fn.queue:
        expected |= SQS_CONSUMER
    if fn.stream:
        expected |= STREAM_CONSUMER | {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}  # its DLQ
    actions = _actions(statements)
    assert actions == expected
    assert not any("*" in a for a in actions)
    assert "dynamodb:Scan" not in actions


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda f: f.name)
def test_only_xray_is_granted_on_every_resource(synth: Synth, fn: topology.Function) -> None:
    unscoped = [s for s in _statements(synth, _role_id(synth, fn)) if s["Resource"] == "*"]
    permitted = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    if Access.SEND_BULK_MAIL in fn.grants.values():
        permitted |= UNSCOPED_READS
    if fn.stream:
        permitted |= {"dynamodb:ListStreams"}
    assert _actions(unscoped) <= permitted


def test_the_protected_api_cannot_send_mail_or_read_the_signing_key(synth: Synth) -> None:
    actions = _actions(_statements(synth, _role_id(synth, topology.function("contacts_api"))))
    assert not {a for a in actions if a.startswith(("ses:", "secretsmanager:"))}


def test_mail_is_sendable_only_from_the_sender_with_the_configuration_set(synth: Synth) -> None:
    mailer = topology.function("consent_mailer")
    (statement,) = [
        s
        for s in _statements(synth, _role_id(synth, mailer))
        if _actions([s]) & allowed(Resource.MAIL, Access.SEND_MAIL)
    ]
    sender = topology.CONTEXT_DEFAULTS["senderAddress"]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}
    resources = [str(r) for r in statement["Resource"]]
    assert not any(r.endswith(("/*", "'*'")) for r in resources)
    assert any(f"identity/{sender}" in r for r in resources)
    assert any("configuration-set/" in r for r in resources)


SCHEDULERS = [fn for fn in topology.FUNCTIONS if Access.SCHEDULE in fn.grants.values()]


@pytest.mark.parametrize("fn", SCHEDULERS, ids=lambda f: f.name)
def test_a_timer_setter_reaches_its_own_capabilitys_schedule_group_and_no_other(
    synth: Synth, fn: topology.Function
) -> None:
    (capability,) = [c for c in topology.CAPABILITIES if fn in c.functions]
    groups = set(synth.resources("AWS::Scheduler::ScheduleGroup"))
    assert len(groups) == len(topology.SCHEDULE_GROUPS) >= 3  # one per capability with timers
    (own,) = [g for g in groups if capability.schedule_group and capability.schedule_group in g]
    statements = [s for s in _statements(synth, _role_id(synth, fn)) if "scheduler:CreateSchedule" in s["Action"]]
    named = {ref_id(part) for s in statements for part in s["Resource"]["Fn::Join"][1] if isinstance(part, dict)}
    assert named & groups == {own}
