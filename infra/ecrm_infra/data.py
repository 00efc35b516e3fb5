"""Tables and buckets as the topology declares them, keyed as docs/data-model.md describes."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import Bucket, Table


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


def bucket(scope: Construct, spec: Bucket, cors_origins: tuple[str, ...] = ()) -> s3.Bucket:
    """Private, encrypted, TLS only; no versions (an upload is written once under a new key), and
    every object expires `expire_days` after it was written: imports, reports and exports are
    hand-overs, not records (decision 88). The API's CORS origins may PUT to and GET from it with a
    presigned URL, so the back-office page that asked for the URL can upload and download itself."""
    made = s3.Bucket(
        scope,
        spec.name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=False,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-hand-overs",
                expiration=cdk.Duration.days(spec.expire_days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
            )
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN,
        cors=[
            s3.CorsRule(
                allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                allowed_origins=list(cors_origins),
                allowed_headers=["content-type", "content-length"],
                max_age=3000,
            )
        ]
        if cors_origins
        else None,
    )
    acknowledge(
        made,
        "S1",
        "Objects are short-lived hand-overs (expired after days) reached only through presigned URLs "
        "a signed-in role asked for and functions by key; every presigned URL is issued by a route "
        "whose call is logged with its caller, so S3 server access logs would add a second bucket to "
        "audit the first without telling more (decision 88).",
    )
    return made
