"""Tables as the topology declares them, keyed as docs/data-model.md describes."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from ecrm_infra.topology import Table


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def table(scope: Construct, spec: Table) -> dynamodb.Table:
    made = dynamodb.Table(
        scope,
        spec.name,
        partition_key=_string("pk"),
        sort_key=_string("sk"),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=spec.ttl_attribute,
        stream=dynamodb.StreamViewType.NEW_IMAGE if spec.stream else None,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    for index in spec.indexes:
        made.add_global_secondary_index(
            index_name=index,
            partition_key=_string(f"{index}pk"),
            sort_key=_string(f"{index}sk"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return made
