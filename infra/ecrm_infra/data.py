"""The contacts table, keyed as docs/data-model.md describes."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

GSI1 = "gsi1"
TTL_ATTRIBUTE = "expires_at"


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def contacts_table(scope: Construct, construct_id: str) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string("pk"),
        sort_key=_string("sk"),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=TTL_ATTRIBUTE,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    table.add_global_secondary_index(
        index_name=GSI1,
        partition_key=_string("gsi1pk"),
        sort_key=_string("gsi1sk"),
        projection_type=dynamodb.ProjectionType.ALL,
    )
    return table
