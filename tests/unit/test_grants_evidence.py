"""unit: requests become the IAM authorizations AWS would check, and the grants judge them."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm.cases.names import Resource as CaseResource
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology import Access
from ecrm_local.resources import dlq_name, physical_name

from tests.grants import Call, Recorder, authorizations

CONTACTS = physical_name(Resource.CONTACTS_TABLE)
OUTBOX = physical_name(Resource.OUTBOX_TABLE)


def test_a_transaction_is_authorized_item_by_item_on_each_table() -> None:
    items = [
        {"Put": {"TableName": CONTACTS, "Item": {}}},
        {"Update": {"TableName": CONTACTS, "Key": {}}},
        {"ConditionCheck": {"TableName": CONTACTS, "Key": {}}},
        {"Delete": {"TableName": CONTACTS, "Key": {}}},
        {"Put": {"TableName": OUTBOX, "Item": {}}},
    ]
    assert authorizations("dynamodb", "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:PutItem", "Contacts", ""),
        ("dynamodb:UpdateItem", "Contacts", ""),
        ("dynamodb:ConditionCheckItem", "Contacts", ""),
        ("dynamodb:DeleteItem", "Contacts", ""),
        ("dynamodb:PutItem", "Outbox", ""),
    ]


def test_reads_name_their_index_and_batches_each_table() -> None:
    assert authorizations("dynamodb", "Query", {"TableName": CONTACTS, "IndexName": "gsi1"}) == [
        ("dynamodb:Query", "Contacts", "gsi1")
    ]
    assert authorizations("dynamodb", "TransactGetItems", {"TransactItems": [{"Get": {"TableName": CONTACTS}}]}) == [
        ("dynamodb:GetItem", "Contacts", "")
    ]
    batch: dict[str, Any] = {"RequestItems": {CONTACTS: [], OUTBOX: []}}
    assert [a for a, _, _ in authorizations("dynamodb", "BatchWriteItem", batch)] == ["dynamodb:BatchWriteItem"] * 2


def test_other_services_name_the_action_iam_checks() -> None:
    url = f"https://sqs.us-east-1.amazonaws.com/123456789012/{physical_name(CaseResource.CASE_TIMER_QUEUE)}"
    assert authorizations("sqs", "SendMessageBatch", {"QueueUrl": url}) == [
        ("sqs:SendMessage", CaseResource.CASE_TIMER_QUEUE, "")
    ]
    dlq = f"https://sqs.us-east-1.amazonaws.com/123456789012/{dlq_name(CaseResource.CASE_TIMER_QUEUE)}"
    assert authorizations("sqs", "SendMessage", {"QueueUrl": dlq})[0][1] == dlq  # not the queue itself
    schedule = {"GroupName": physical_name(CaseResource.CASE_SCHEDULES), "Target": {"RoleArn": "arn"}}
    assert authorizations("scheduler", "CreateSchedule", schedule) == [
        ("scheduler:CreateSchedule", CaseResource.CASE_SCHEDULES, ""),
        ("iam:PassRole", CaseResource.CASE_SCHEDULES, ""),
    ]
    assert authorizations("sesv2", "SendEmail", {}) == [("ses:SendEmail", Resource.MAIL, "")]
    secret = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{physical_name(Resource.SIGNING_SECRET)}-AbCdEf"
    assert authorizations("secretsmanager", "GetSecretValue", {"SecretId": secret}) == [
        ("secretsmanager:GetSecretValue", Resource.SIGNING_SECRET, "")
    ]


def test_a_call_the_grants_lack_is_refused() -> None:
    recorder = Recorder()
    recorder.calls += [
        Call("contacts_capture", "dynamodb:PutItem", "Outbox"),
        Call("contacts_capture", "dynamodb:DeleteItem", "Contacts"),
        Call("contacts_capture", "dynamodb:GetItem", "Cases"),
        Call("contacts_capture", "dynamodb:Query", "Contacts", "gsi1"),
        Call("contacts_capture", "dynamodb:Query", "Contacts"),
    ]
    assert recorder.refused() == [
        Call("contacts_capture", "dynamodb:DeleteItem", "Contacts"),
        Call("contacts_capture", "dynamodb:GetItem", "Cases"),
        Call("contacts_capture", "dynamodb:Query", "Contacts"),
        Call("contacts_capture", "dynamodb:Query", "Contacts", "gsi1"),
    ]
    assert "dynamodb:PutItem on Outbox" not in recorder.unused()["contacts_capture"]


def test_access_that_does_not_apply_to_a_resource_fails() -> None:
    assert topology.actions(Resource.OUTBOX_TABLE, Access.PUT) == {"dynamodb:PutItem"}
    with pytest.raises(ValueError, match="SEND does not apply to a table"):
        topology.actions(Resource.CONTACTS_TABLE, Access.READ | Access.SEND)
