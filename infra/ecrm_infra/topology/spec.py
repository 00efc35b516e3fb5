"""The vocabulary of the topology: functions, their routes and queue triggers, tables, access.

Plain data: no CDK import. The capability modules beside this one declare their parts with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Literal

from ecrm import settings
from ecrm.access import Route as Route  # declared in the shipped package, where the edge checks it
from ecrm.names import Env


class Access(Flag):
    """What a function may do to one resource, in IAM's words; combine with `|`
    (`Access.READ | Access.UPDATE`). `ACTIONS` says which IAM actions each one grants per kind of
    resource: a grant names exactly the actions the function's code calls (tests/grants.py records
    them during the integration tier and checks each against the grants)."""

    # DynamoDB tables. A transaction is authorized per item: PUT, UPDATE, DELETE or CHECK each.
    READ = auto()  # GetItem, BatchGetItem (items by key); a secret's value
    QUERY = auto()  # Query, on the table and its indexes (listings: a partition, a GSI)
    PUT = auto()  # PutItem: new items, or whole items replaced (the Outbox: events in the writer's transaction)
    UPDATE = auto()  # UpdateItem
    CHECK = auto()  # ConditionCheckItem: a transaction's condition on an item it does not write
    DELETE = auto()  # DeleteItem
    BATCH_WRITE = auto()  # BatchWriteItem (puts and deletes of up to 25 items)
    # Other kinds of resource.
    SEND = auto()  # a queue: SendMessage (and SendMessageBatch)
    PUT_EVENTS = auto()  # the bus
    SEND_MAIL = auto()  # SES: SendEmail from the sender, with the configuration set
    SEND_QUOTA = auto()  # SES: GetSendQuota, the account's send rate (bulk mail paces itself by it)
    # The capability's schedule group: create, update (a create that met a schedule of that name)
    # and delete schedules, passing Scheduler's role; one unit, as `SchedulerTimers` uses it.
    SCHEDULE = auto()


_TABLE_ACTIONS = {
    Access.READ: ("dynamodb:GetItem", "dynamodb:BatchGetItem"),
    Access.QUERY: ("dynamodb:Query",),
    Access.PUT: ("dynamodb:PutItem",),
    Access.UPDATE: ("dynamodb:UpdateItem",),
    Access.CHECK: ("dynamodb:ConditionCheckItem",),
    Access.DELETE: ("dynamodb:DeleteItem",),
    Access.BATCH_WRITE: ("dynamodb:BatchWriteItem",),
}
# Resource kind -> access -> the IAM actions it grants. The one table CDK and the tests read.
ACTIONS: dict[str, dict[Access, tuple[str, ...]]] = {
    "table": _TABLE_ACTIONS,
    "queue": {Access.SEND: ("sqs:SendMessage",)},
    "bus": {Access.PUT_EVENTS: ("events:PutEvents",)},
    "secret": {Access.READ: ("secretsmanager:GetSecretValue",)},
    # A bucket's objects: GetObject (HeadObject and presigned GETs too), PutObject (presigned PUTs too).
    "bucket": {Access.READ: ("s3:GetObject",), Access.PUT: ("s3:PutObject",)},
    # SES v2's SendEmail, raw content included, is authorized as ses:SendEmail (SendRawEmail is v1's).
    "mail": {Access.SEND_MAIL: ("ses:SendEmail",), Access.SEND_QUOTA: ("ses:GetSendQuota",)},
    "schedules": {
        Access.SCHEDULE: (
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "iam:PassRole",
        ),
    },
}


def actions_of(kind: str, access: Access, resource: str = "") -> frozenset[str]:
    """The IAM actions `access` grants on a resource of `kind`; access that does not apply fails."""
    by_access = ACTIONS[kind]
    found: set[str] = set()
    for member in access:
        if member not in by_access:
            raise ValueError(f"{resource or kind}: access {member.name} does not apply to a {kind}")
        found.update(by_access[member])
    return frozenset(found)


CONTEXT_PREFIX = "context:"
# An env value the topology itself derives (the campaign sender's lanes, from the send rate).
VALUE_PREFIX = "value:"
ATTRIBUTE_SEPARATOR = "."


def fixed(value: object) -> str:
    """An env source that is this value, not a resource's or the CDK context's."""
    return f"{VALUE_PREFIX}{value}"


def names_resource(source: str) -> bool:
    """Whether an env source names a resource (not the context's or a fixed value)."""
    return not source.startswith((CONTEXT_PREFIX, VALUE_PREFIX))


def arn_of(resource: str) -> str:
    """An env source naming a resource's ARN (a bare resource name gives its name or URL)."""
    return f"{resource}{ATTRIBUTE_SEPARATOR}arn"


def timer_env(group: str, group_var: str, queue: str, url_var: str, arn_var: str) -> dict[str, str]:
    """Env of a function that sets Scheduler timers delivered to `queue`: its capability's schedule
    `group` (in `group_var`), the role Scheduler delivers with, and the queue's URL and ARN."""
    return {
        group_var: group,
        Env.SCHEDULER_ROLE: f"{group}{ATTRIBUTE_SEPARATOR}role",
        url_var: queue,
        arn_var: arn_of(queue),
    }


def timer_grants(group: str, queue: str) -> dict[str, Access]:
    """Grants to set timers delivered to `queue`: schedules in its capability's `group` only
    (passing Scheduler's role), and sending to the queue itself, where a timer already due goes
    straight away (its schedule of that name is then deleted)."""
    return {group: Access.SCHEDULE, queue: Access.SEND}


def split_source(source: str) -> tuple[str, str | None]:
    """ "Queue.arn" -> ("Queue", "arn"); "Queue" -> ("Queue", None)."""
    name, _, attribute = source.partition(ATTRIBUTE_SEPARATOR)
    return name, attribute or None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table keyed (pk, sk); each index is a GSI keyed (<index>pk, <index>sk), all strings."""

    name: str
    indexes: tuple[str, ...] = ()
    ttl_attribute: str = "expires_at"
    stream: bool = False  # a NEW_IMAGE stream (the Outbox's, read by the event relay)
    # Why the table holds no personal data; empty: it may, so its capability contributes to the
    # complete GDPR export (ecrm.personal_data) and the contact 360 reads it (topology/contact360.py).
    no_personal_data: str = ""


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket for files people hand over or take away (imports, reports, exports): encrypted,
    private, TLS only, no versions, every object deleted `expire_days` after it was written.
    Functions reach its objects by key, never by listing it."""

    name: str
    expire_days: int = 7
    # Why the bucket holds no personal data; empty: it may (its objects expire, see docs/imports.md).
    no_personal_data: str = ""


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule: which events reach a queue. `bus="default"` is for AWS services that only
    publish to the account's default bus (SES configuration-set events)."""

    sources: tuple[str, ...]
    detail_types: tuple[str, ...] = ()
    detail_filter: dict[str, list[object]] = field(default_factory=dict)
    bus: Literal["custom", "default"] = "custom"

    @property
    def event_pattern(self) -> dict[str, object]:
        pattern: dict[str, object] = {"source": list(self.sources)}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        if self.detail_filter:
            pattern["detail"] = self.detail_filter
        return pattern


@dataclass(frozen=True)
class QueueTrigger:
    """SQS queue (with DLQ) -> function, partial batch responses on. The queue is fed by an EventBridge
    `rule`, by other functions (Access.SEND), or by Scheduler (`scheduler_target`)."""

    queue: str
    rule: EventRule | None = None
    # More rules into the same queue: another bus (SES's events reach the account's default bus only)
    more_rules: tuple[EventRule, ...] = ()
    scheduler_target: bool = False
    batch_size: int = 10
    max_receive_count: int = 5
    max_concurrency: int | None = None  # the event source mapping's cap (2-1000); None = Lambda's default

    @property
    def event_pattern(self) -> dict[str, object] | None:
        return self.rule.event_pattern if self.rule else None

    @property
    def rules(self) -> tuple[EventRule, ...]:
        return ((self.rule,) if self.rule else ()) + self.more_rules


@dataclass(frozen=True)
class StreamTrigger:
    """A table's DynamoDB stream -> function: INSERT records only, in order per shard, partial batch
    responses on, a failing batch split in two and retried, what still fails after `retry_attempts`
    or `max_record_age_seconds` reported to a DLQ (the items themselves stay in the table)."""

    table: str
    batch_size: int = 10  # PutEvents takes ten entries: one call per batch
    retry_attempts: int = 20
    max_record_age_seconds: int = 6 * 3600


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/, and the handler package Lambda imports
    description: str
    settings: type[settings.FromEnv]
    env: dict[str, str]  # env var -> resource name (or "<name>.arn"), or a "context:<key>" value
    grants: dict[str, Access]  # resource name -> access
    routes: tuple[Route, ...] = ()
    queue: QueueTrigger | None = None
    stream: StreamTrigger | None = None
    timeout_seconds: int = 10
    memory_mb: int = 512
    # Held for this function alone (None: the account's shared pool), so other functions cannot
    # starve it; a queue-triggered function reserves its event source's maximum concurrency.
    reserved_concurrency: int | None = None

    @property
    def handler(self) -> str:
        return f"{self.name}.handler.lambda_handler"


@dataclass(frozen=True)
class MetricAlarm:
    """An alarm on one of the capability's own metrics (Powertools EMF, namespace and service from
    ecrm.names): it notifies the alarm topic when the metric's `statistic` over `period_minutes`
    exceeds `threshold`."""

    metric: str
    threshold: float
    description: str
    statistic: str = "Sum"
    period_minutes: int = 5


@dataclass(frozen=True)
class Capability:
    """One capability's part of the topology: its tables and its functions (CDK: one construct each)."""

    name: str
    functions: tuple[Function, ...]
    tables: tuple[Table, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    context_defaults: dict[str, str] = field(default_factory=dict)
    alarms: tuple[MetricAlarm, ...] = ()
    schedule_group: str | None = None  # the Scheduler group its timers live in, its own
    # Settings a deployment derives from its context values (the campaign sender's concurrency and
    # timeout from the send rate): the capability as deployed with them. None: as declared.
    deploy: Callable[[Capability, Mapping[str, str]], Capability] | None = None

    def for_context(self, values: Mapping[str, str]) -> Capability:
        """The capability as a deployment with these context values makes it."""
        return self.deploy(self, values) if self.deploy else self
