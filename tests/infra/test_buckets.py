"""infra: every bucket is private, encrypted, TLS only, unversioned, expires its objects and keeps
them on stack deletion; functions reach its objects only (never list it)."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm_infra import topology

from tests.infra.synth import Synth


def _bucket(synth: Synth, spec: topology.Bucket) -> dict[str, Any]:
    found: dict[str, Any] = synth.template["Resources"][synth.bucket_id(spec)]
    assert found["Type"] == "AWS::S3::Bucket"
    return found


def test_one_bucket_per_topology_bucket(synth: Synth) -> None:
    assert len(synth.resources("AWS::S3::Bucket")) == len(topology.BUCKETS) >= 1


@pytest.mark.parametrize("spec", topology.BUCKETS, ids=lambda b: b.name)
def test_private_encrypted_unversioned_and_expiring(synth: Synth, spec: topology.Bucket) -> None:
    bucket = _bucket(synth, spec)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "VersioningConfiguration" not in props
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", spec.expire_days)
    assert bucket["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("spec", topology.BUCKETS, ids=lambda b: b.name)
def test_its_policy_refuses_plain_http(synth: Synth, spec: topology.Bucket) -> None:
    bucket_id = synth.bucket_id(spec)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (statements,) = policies
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


@pytest.mark.parametrize("spec", topology.BUCKETS, ids=lambda b: b.name)
def test_grants_reach_objects_never_the_listing(synth: Synth, spec: topology.Bucket) -> None:
    actions = {
        action
        for policy in synth.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("s3:")
    }
    assert actions == {"s3:GetObject", "s3:PutObject"}


@pytest.mark.parametrize("spec", topology.BUCKETS, ids=lambda b: b.name)
def test_the_apis_origins_may_put_and_get_through_presigned_urls(synth: Synth, spec: topology.Bucket) -> None:
    (rule,) = _bucket(synth, spec)["Properties"]["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "PUT"]
    origins = topology.CONTEXT_DEFAULTS["allowedOrigins"].split(",")
    assert rule["AllowedOrigins"] == [o.strip().rstrip("/") for o in origins if o.strip()]
    assert "*" not in rule["AllowedOrigins"]
