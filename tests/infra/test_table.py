"""infra: every capability's table is recoverable, encrypted, expires records and keeps its data on delete."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm_infra import topology

from tests.infra.synth import Synth


@pytest.fixture(params=topology.TABLES, ids=lambda spec: spec.name)
def spec(request: pytest.FixtureRequest) -> topology.Table:
    table: topology.Table = request.param
    return table


@pytest.fixture
def table(synth: Synth, spec: topology.Table) -> dict[str, Any]:
    logical_id = synth.template["Outputs"][f"{spec.name}TableName"]["Value"]["Ref"]
    resource: dict[str, Any] = synth.template["Resources"][logical_id]
    return resource


def test_one_table_per_declared_table(synth: Synth) -> None:
    assert len(synth.resources("AWS::DynamoDB::Table")) == len(topology.TABLES)


def test_point_in_time_recovery_encryption_and_ttl(table: dict[str, Any]) -> None:
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_keys_and_gsi_follow_the_data_model(table: dict[str, Any], spec: topology.Table) -> None:
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    gsis = props.get("GlobalSecondaryIndexes", [])
    assert [g["IndexName"] for g in gsis] == list(spec.indexes)
    for gsi in gsis:
        name = gsi["IndexName"]
        assert gsi["KeySchema"] == [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ]
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {"pk": "S", "sk": "S", **{f"{i}{part}": "S" for i in spec.indexes for part in ("pk", "sk")}}
    assert not props.get("LocalSecondaryIndexes")


def test_data_survives_stack_deletion(table: dict[str, Any]) -> None:
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
