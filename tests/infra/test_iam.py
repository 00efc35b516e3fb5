"""infra: one role per function, holding only what the function's grants and triggers imply."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology import Access

from tests.infra.synth import Synth, ref_id

BASE = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
UNSCOPED_READS = {"ses:GetSendQuota"}  # no resource-level permissions exist for it
# What the least privilege of the issue means, written out independently of the topology's table:
# the public writers may not delete or batch-write anything (decision 63).
NEVER_PUBLIC = {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"}
PUBLIC_WRITERS = ("contacts_capture", "cases_form", "campaigns_unsubscribe")


def allowed(resource: str, access: Access) -> set[str]:
    return set(topology.actions(resource, access))


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
    if any(Access.SEND_QUOTA in access for access in fn.grants.values()):
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


SCHEDULERS = [fn for fn in topology.FUNCTIONS if any(Access.SCHEDULE in a for a in fn.grants.values())]


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


def _resource_names(synth: Synth) -> dict[str, str]:
    """Logical id -> the topology resource it is, for everything a grant may name."""
    names = {synth.table_id(table): table.name for table in topology.TABLES}
    names |= {synth.bucket_id(bucket): bucket.name for bucket in topology.BUCKETS}
    for trigger, fn in topology.queue_triggers():
        (arn,) = [
            m["Properties"]["EventSourceArn"]
            for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
            if m["Properties"]["FunctionName"] == {"Ref": synth.function_id(fn)}
        ]
        names[ref_id(arn)] = trigger.queue
    for group_id in synth.resources("AWS::Scheduler::ScheduleGroup"):
        (group,) = [g for g in topology.SCHEDULE_GROUPS if g in group_id]
        names[group_id] = group
    (bus,) = synth.resources("AWS::Events::EventBus")
    (secret,) = synth.resources("AWS::SecretsManager::Secret")
    return names | {bus: Resource.EVENT_BUS, secret: Resource.SIGNING_SECRET}


def _ids(value: Any) -> set[str]:
    if isinstance(value, list):
        return {found for v in value for found in _ids(v)}
    if not isinstance(value, dict):
        return set()
    if set(value) in ({"Ref"}, {"Fn::GetAtt"}):
        return {ref_id(value)}
    return {found for v in value.values() for found in _ids(v)}


def _label(value: Any, names: dict[str, str]) -> str:
    """What a statement's Resource entry is: a topology resource (with `/index` for a table's GSIs),
    `ses`, `*`, or `other` (log groups, the Scheduler role, streams: not grants')."""
    if value == "*":
        return "*"
    granted = {names[i] for i in _ids(value) if i in names}
    text = json.dumps(value)
    if not granted:
        return Resource.MAIL if ":ses:" in text else "other"
    (name,) = granted
    if "StreamArn" in text:
        return f"{name}/stream"
    if "/schedule/" not in text and "/index/" in text:
        return f"{name}/index"
    return name


def _per_resource(statements: list[dict[str, Any]], names: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in statements:
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            found.setdefault(_label(resource, names), set()).update(_actions([statement]))
    return found


def _expected_per_resource(fn: topology.Function) -> dict[str, set[str]]:
    """What each granted resource's ARNs carry: a table's GSIs only Query, the mail quota is on `*`,
    passing the Scheduler role is on the role."""
    expected: dict[str, set[str]] = {}
    for resource, access in fn.grants.items():
        actions = allowed(resource, access)
        if "dynamodb:Query" in actions and any(t.name == resource and t.indexes for t in topology.TABLES):
            expected[f"{resource}/index"] = {"dynamodb:Query"}
        if actions & UNSCOPED_READS:
            expected.setdefault("*", set()).update(actions & UNSCOPED_READS)
        expected[resource] = actions - UNSCOPED_READS - {"iam:PassRole"}
    return expected


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda f: f.name)
def test_each_granted_resource_carries_exactly_its_declared_actions(synth: Synth, fn: topology.Function) -> None:
    names = _resource_names(synth)
    found = _per_resource(_statements(synth, _role_id(synth, fn)), names)
    expected = _expected_per_resource(fn)
    own_queue = fn.queue.queue if fn.queue else None
    for label, actions in expected.items():
        if label == "*":
            assert found["*"] - {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} == actions
            continue
        consumed = SQS_CONSUMER if label == own_queue else set()  # its own trigger: the event source mapping's
        assert found.get(label, set()) - consumed == actions, label
    stream = f"{fn.stream.table}/stream" if fn.stream else None
    if stream:  # its trigger: the event source mapping reads the stream with the function's role
        assert found[stream] <= STREAM_CONSUMER
    granted = {label for label in found if label not in ("*", "other")}
    assert granted <= set(expected) | {own_queue, stream}, "a resource the topology does not grant"


@pytest.mark.parametrize("name", PUBLIC_WRITERS)
def test_public_writers_cannot_delete_or_batch_write(synth: Synth, name: str) -> None:
    fn = topology.function(name)
    assert any(route.public for route in fn.routes)
    assert not _actions(_statements(synth, _role_id(synth, fn))) & NEVER_PUBLIC


def _assumed_by(synth: Synth, role_id: str) -> str:
    (statement,) = synth.props(role_id)["AssumeRolePolicyDocument"]["Statement"]
    return str(statement["Principal"]["Service"])


def test_every_role_is_a_functions_or_one_the_platform_states(synth: Synth) -> None:
    """No role escapes the checks above: besides one per function, the role Scheduler delivers
    with (SendMessage to each timer queue, nothing else) and API Gateway's logging role (decision 55)."""
    functions = {_role_id(synth, fn) for fn in topology.FUNCTIONS}
    others = {role: _assumed_by(synth, role) for role in synth.resources("AWS::IAM::Role") if role not in functions}
    assert sorted(others.values()) == ["apigateway.amazonaws.com", "scheduler.amazonaws.com"]
    (scheduler,) = [role for role, service in others.items() if service == "scheduler.amazonaws.com"]
    names = _resource_names(synth)
    targets = {trigger.queue for trigger, _ in topology.queue_triggers() if trigger.scheduler_target}
    assert _per_resource(_statements(synth, scheduler), names) == {queue: {"sqs:SendMessage"} for queue in targets}
