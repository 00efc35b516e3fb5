"""infra: every table is recoverable, encrypted, expires records and keeps its data on delete; keys and
GSIs are the ones the topology declares."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm_infra import topology

from tests.infra.synth import Synth


def _table(synth: Synth, spec: topology.Table) -> dict[str, Any]:
    found: dict[str, Any] = synth.template["Resources"][synth.table_id(spec)]
    assert found["Type"] == "AWS::DynamoDB::Table"
    return found


def test_one_table_per_topology_table(synth: Synth) -> None:
    assert len(synth.resources("AWS::DynamoDB::Table")) == len(topology.TABLES)


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_point_in_time_recovery_encryption_and_ttl(synth: Synth, spec: topology.Table) -> None:
    props = _table(synth, spec)["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_keys_and_gsis_follow_the_data_model(synth: Synth, spec: topology.Table) -> None:
    props = _table(synth, spec)["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    assert list(indexes) == list(spec.indexes)
    for name, gsi in indexes.items():
        assert gsi["KeySchema"] == [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ]
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {k: "S" for k in ("pk", "sk", *(f"{i}{part}" for i in spec.indexes for part in ("pk", "sk")))}


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_data_survives_stack_deletion(synth: Synth, spec: topology.Table) -> None:
    table = _table(synth, spec)
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
