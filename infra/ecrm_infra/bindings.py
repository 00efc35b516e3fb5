"""How a topology resource name becomes an environment value and an IAM grant.

The topology says "this function reads Contacts"; a Binding knows what that means in IAM for that
kind of resource. Actions are listed explicitly (not CDK's grantReadWriteData) so the roles carry
exactly what the adapters call: no Scan (docs/data-model.md), no stream or table-admin actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from ecrm_infra.topology import Access

# GetItem, Query (also on the GSI), BatchGetItem; ConditionCheckItem for transaction conditions.
_DYNAMO_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
# TransactWriteItems is authorized per item as Put/Update/Delete, so no separate action exists for it.
_DYNAMO_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
_SES_SEND = ("ses:SendEmail", "ses:SendRawEmail")


class Binding(Protocol):
    @property
    def env_value(self) -> str: ...

    def grant(self, grantee: iam.IGrantable, access: Access) -> None: ...


def _unsupported(name: str, access: Access) -> ValueError:
    return ValueError(f"{name}: access {access.value!r} does not apply to this kind of resource")


@dataclass(frozen=True)
class TableBinding:
    table: dynamodb.Table
    index_names: tuple[str, ...]

    @property
    def env_value(self) -> str:
        return self.table.table_name

    def grant(self, grantee: iam.IGrantable, access: Access) -> None:
        if access not in (Access.READ, Access.READ_WRITE):
            raise _unsupported(self.table.node.id, access)
        actions = _DYNAMO_READ + (_DYNAMO_WRITE if access is Access.READ_WRITE else ())
        indexes = [f"{self.table.table_arn}/index/{name}" for name in self.index_names]
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.table.table_arn, *indexes]
        )


@dataclass(frozen=True)
class BusBinding:
    bus: events.EventBus

    @property
    def env_value(self) -> str:
        return self.bus.event_bus_name

    def grant(self, grantee: iam.IGrantable, access: Access) -> None:
        if access is not Access.PUT_EVENTS:
            raise _unsupported(self.bus.node.id, access)
        self.bus.grant_put_events_to(grantee)


@dataclass(frozen=True)
class SecretBinding:
    secret: secretsmanager.Secret

    @property
    def env_value(self) -> str:
        return self.secret.secret_arn  # the ARN, so a renamed secret cannot be confused with another

    def grant(self, grantee: iam.IGrantable, access: Access) -> None:
        if access is not Access.READ:
            raise _unsupported(self.secret.node.id, access)
        self.secret.grant_read(grantee)


@dataclass(frozen=True)
class MailBinding:
    """Sending through SES from one sender with one configuration set.

    The sender's identity is verified out of band (domain verification needs DNS), so it is not a
    resource of this stack. The grant names both identity ARNs SES may check - the address and its
    domain, whichever is verified - instead of `identity/*`, and pins the From address by condition.
    """

    sender: str
    resource_arns: tuple[str, ...]

    @classmethod
    def of(cls, stack: cdk.Stack, *, sender: str, configuration_set: str) -> MailBinding:
        def arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="ses", resource=resource, resource_name=name, arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME
            )

        domain = sender.rpartition("@")[2]
        identities = (arn("identity", sender), arn("identity", domain))
        return cls(sender, (*identities, arn("configuration-set", configuration_set)))

    @property
    def env_value(self) -> str:
        return self.sender

    def grant(self, grantee: iam.IGrantable, access: Access) -> None:
        if access is not Access.SEND_MAIL:
            raise _unsupported("ses", access)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(_SES_SEND),
                resources=list(self.resource_arns),
                conditions={"StringEquals": {"ses:FromAddress": self.sender}},
            )
        )


def grant_all(grantee: iam.IGrantable, grants: Mapping[str, Access], bindings: Mapping[str, Binding]) -> None:
    for name, access in grants.items():
        if name not in bindings:
            raise KeyError(f"grant on unknown resource {name!r}; known: {sorted(bindings)}")
        bindings[name].grant(grantee, access)
