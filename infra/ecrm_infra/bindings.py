"""How a topology resource name becomes an environment value and an IAM grant.

The topology says "this function reads Contacts and updates it" and which IAM actions that means
(`topology.actions`); a Binding knows on which ARNs of its kind of resource each action applies.
Actions are never CDK's grant helpers (grantReadWriteData, grantSendMessages, grantRead), which add
actions the code does not call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import Access

_SES_QUOTA = "ses:GetSendQuota"  # no resource-level permissions: granted on "*"
_PASS_ROLE = "iam:PassRole"  # noqa: S105 - an IAM action, not a password
_QUERY = "dynamodb:Query"
_GROUP_PARAMETER = "ScheduleGroupName"


class Binding(Protocol):
    def env_value(self, attribute: str | None = None) -> str:
        """What an env var naming this resource carries: its name/URL, or an attribute ("arn")."""
        ...

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        """Allow `actions` (what the topology's access means for this kind of resource) on it."""
        ...


def _allow(grantee: iam.IGrantable, actions: Iterable[str], resources: Sequence[str]) -> None:
    iam.Grant.add_to_principal(grantee=grantee, actions=sorted(actions), resource_arns=list(resources))


def _no_attribute(name: str, attribute: str | None) -> None:
    if attribute is not None:
        raise ValueError(f"{name}: no attribute {attribute!r} to put in an env var")


@dataclass(frozen=True)
class TableBinding:
    table: dynamodb.Table
    index_names: tuple[str, ...]

    def env_value(self, attribute: str | None = None) -> str:
        _no_attribute(self.table.node.id, attribute)
        return self.table.table_name

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        _allow(grantee, actions, [self.table.table_arn])
        if _QUERY in actions and self.index_names:  # the only one of our actions that reads an index
            _allow(grantee, [_QUERY], [f"{self.table.table_arn}/index/{name}" for name in self.index_names])


@dataclass(frozen=True)
class BucketBinding:
    """A bucket's objects: the grant is on `<bucket>/*` (GetObject, PutObject act on objects), never
    on the bucket itself (no listing)."""

    bucket: s3.Bucket

    def env_value(self, attribute: str | None = None) -> str:
        _no_attribute(self.bucket.node.id, attribute)
        return self.bucket.bucket_name

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        _allow(grantee, actions, [self.bucket.arn_for_objects("*")])
        if isinstance(grantee, Construct):
            home = cdk.Stack.of(self.bucket)
            bucket_id = home.resolve(home.get_logical_id(cast("cdk.CfnElement", self.bucket.node.default_child)))
            acknowledge(
                grantee,
                "IAM5",
                "Objects are written and read under keys made at run time (an import's id); the grant "
                "names only this bucket's objects, and only the object actions the function calls.",
                applies_to=f"Resource::<{bucket_id}.Arn>/*",
            )


@dataclass(frozen=True)
class BusBinding:
    bus: events.EventBus

    def env_value(self, attribute: str | None = None) -> str:
        _no_attribute(self.bus.node.id, attribute)
        return self.bus.event_bus_name

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        _allow(grantee, actions, [self.bus.event_bus_arn])


@dataclass(frozen=True)
class SecretBinding:
    secret: secretsmanager.Secret

    def env_value(self, attribute: str | None = None) -> str:
        _no_attribute(self.secret.node.id, attribute)
        return self.secret.secret_arn  # the ARN, so a renamed secret cannot be confused with another

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        _allow(grantee, actions, [self.secret.secret_arn])


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

    def env_value(self, attribute: str | None = None) -> str:
        _no_attribute("ses", attribute)
        return self.sender

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        if send := actions - {_SES_QUOTA}:
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=sorted(send),
                    resources=list(self.resource_arns),
                    conditions={"StringEquals": {"ses:FromAddress": self.sender}},
                )
            )
        if _SES_QUOTA in actions:
            _allow(grantee, [_SES_QUOTA], ["*"])


@dataclass(frozen=True)
class QueueBinding:
    queue: sqs.IQueue

    def env_value(self, attribute: str | None = None) -> str:
        if attribute == "arn":
            return self.queue.queue_arn
        _no_attribute(self.queue.node.id, attribute)
        return self.queue.queue_url

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        _allow(grantee, actions, [self.queue.queue_arn])


@dataclass(frozen=True)
class SchedulesBinding:
    """The stack's schedule group and the role Scheduler assumes to deliver to queues.

    Managing schedules means creating them with that role, so the grant includes passing it - to
    Scheduler only. A capability's nested stack receives the group's name as its parameter
    `ScheduleGroupName` (declared here, so cdk-nag's finding on `<group>/*` can be named exactly)."""

    group: scheduler.CfnScheduleGroup
    role: iam.IRole

    @classmethod
    def of(cls, group: scheduler.CfnScheduleGroup, role: iam.IRole) -> SchedulesBinding:
        return cls(group=group, role=role)

    @property
    def group_name(self) -> str:
        return self.group.ref

    def _group_in(self, stack: cdk.Stack) -> tuple[str, str]:
        """The group's name as `stack` refers to it, and the logical id cdk-nag shows for it."""
        home = cdk.Stack.of(self.group)
        if stack is home:
            return self.group.ref, stack.resolve(stack.get_logical_id(self.group))
        if not isinstance(stack, cdk.NestedStack) or stack.nested_stack_parent is not home:
            raise ValueError(f"{stack.node.path}: schedules are granted in the platform's stack or its nested stacks")
        parameter = stack.node.try_find_child(_GROUP_PARAMETER)
        if parameter is None:
            parameter = cdk.CfnParameter(stack, _GROUP_PARAMETER, description="The platform's schedule group")
            stack.set_parameter(_GROUP_PARAMETER, self.group.ref)
        assert isinstance(parameter, cdk.CfnParameter)
        return parameter.value_as_string, _GROUP_PARAMETER

    def env_value(self, attribute: str | None = None) -> str:
        if attribute == "role":
            return self.role.role_arn
        _no_attribute("Schedules", attribute)
        return self.group_name

    def grant(self, grantee: iam.IGrantable, actions: frozenset[str]) -> None:
        principal = grantee.grant_principal
        stack = cdk.Stack.of(grantee) if isinstance(grantee, Construct) else cdk.Stack.of(self.group)
        group_name, group_id = self._group_in(stack)
        prefix = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=group_name,
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        on_schedules = sorted(actions - {_PASS_ROLE})
        principal.add_to_principal_policy(iam.PolicyStatement(actions=on_schedules, resources=[f"{prefix}/*"]))
        if isinstance(grantee, Construct):
            region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
            account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
            acknowledge(
                grantee,
                "IAM5",
                "Timers are schedules named per entity at run time (a case step, a campaign run); the grant "
                "is scoped to this stack's own schedule group, never to other groups or to `schedule/*`.",
                applies_to=f"Resource::arn:<AWS::Partition>:scheduler:{region}:{account}:schedule/<{group_id}>/*",
            )
        if _PASS_ROLE not in actions:
            return
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[_PASS_ROLE],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )


def grant_all(grantee: iam.IGrantable, grants: Mapping[str, Access], bindings: Mapping[str, Binding]) -> None:
    for name, access in grants.items():
        if name not in bindings:
            raise KeyError(f"grant on unknown resource {name!r}; known: {sorted(bindings)}")
        bindings[name].grant(grantee, topology.actions(name, access))
