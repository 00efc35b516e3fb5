"""The one declaration of functions, triggers, tables, environment and permissions.

The CDK constructs (ecrm_infra.stack), the local runner (ecrm_local) and the tests all read this
package; nothing else lists routes, queues, rules, tables, env vars or grants. Each capability
declares its part in a module of its own; this module puts them together. Plain data: no CDK.
"""

from __future__ import annotations

from ecrm.names import Resource

from ecrm_infra.topology.campaigns import CAMPAIGNS
from ecrm_infra.topology.cases import CASES
from ecrm_infra.topology.contact360 import CONTACT360
from ecrm_infra.topology.contacts import CONTACTS
from ecrm_infra.topology.events import EVENTS
from ecrm_infra.topology.imports import IMPORTS
from ecrm_infra.topology.journeys import JOURNEYS
from ecrm_infra.topology.loyalty import LOYALTY
from ecrm_infra.topology.orders import ORDERS
from ecrm_infra.topology.spec import (
    ACTIONS,
    CONTEXT_PREFIX,
    VALUE_PREFIX,
    Access,
    Bucket,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Route,
    StreamTrigger,
    Table,
    actions_of,
    arn_of,
    fixed,
    names_resource,
    split_source,
)
from ecrm_infra.topology.webhooks import WEBHOOKS

__all__ = [
    "ACTIONS",
    "BUCKETS",
    "CAPABILITIES",
    "CONTEXT_DEFAULTS",
    "CONTEXT_PREFIX",
    "FUNCTIONS",
    "PLATFORM_RESOURCES",
    "SCHEDULE_GROUPS",
    "TABLES",
    "VALUE_PREFIX",
    "Access",
    "Bucket",
    "Capability",
    "EventRule",
    "Function",
    "MetricAlarm",
    "QueueTrigger",
    "Route",
    "StreamTrigger",
    "Table",
    "actions",
    "arn_of",
    "fixed",
    "function",
    "names_resource",
    "queue_triggers",
    "resource_kinds",
    "routes",
    "split_source",
    "stream_triggers",
]

CAPABILITIES: tuple[Capability, ...] = (
    EVENTS,
    CONTACTS,
    CASES,
    CAMPAIGNS,
    LOYALTY,
    WEBHOOKS,
    JOURNEYS,
    CONTACT360,
    ORDERS,
    IMPORTS,
)

FUNCTIONS: tuple[Function, ...] = tuple(fn for cap in CAPABILITIES for fn in cap.functions)
TABLES: tuple[Table, ...] = tuple(table for cap in CAPABILITIES for table in cap.tables)
BUCKETS: tuple[Bucket, ...] = tuple(bucket for cap in CAPABILITIES for bucket in cap.buckets)
SCHEDULE_GROUPS: tuple[str, ...] = tuple(cap.schedule_group for cap in CAPABILITIES if cap.schedule_group)

# Shared by every capability, made once by the platform.
PLATFORM_RESOURCES = (Resource.EVENT_BUS, Resource.SIGNING_SECRET, Resource.MAIL)

# Defaults for "context:<key>" values; `cdk -c key=value` (or cdk.json) overrides them in AWS,
# and the local runner uses them with its own URL.
CONTEXT_DEFAULTS: dict[str, str] = {
    "senderAddress": "news@example.com",
    "sesConfigurationSet": "ecrm-default",
    **{key: value for cap in CAPABILITIES for key, value in cap.context_defaults.items()},
}


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(f"no function {name!r} in the topology; known: {[f.name for f in FUNCTIONS]}")


def routes() -> list[tuple[Route, Function]]:
    return [(r, f) for f in FUNCTIONS for r in f.routes]


def queue_triggers() -> list[tuple[QueueTrigger, Function]]:
    return [(f.queue, f) for f in FUNCTIONS if f.queue]


def stream_triggers() -> list[tuple[StreamTrigger, Function]]:
    return [(f.stream, f) for f in FUNCTIONS if f.stream]


def resource_kinds() -> dict[str, str]:
    """Every resource a function may be granted, and its kind (a key of `ACTIONS`)."""
    return {
        Resource.EVENT_BUS: "bus",
        Resource.SIGNING_SECRET: "secret",
        Resource.MAIL: "mail",
        **dict.fromkeys(SCHEDULE_GROUPS, "schedules"),
        **dict.fromkeys((t.name for t in TABLES), "table"),
        **dict.fromkeys((b.name for b in BUCKETS), "bucket"),
        **dict.fromkeys((trigger.queue for trigger, _ in queue_triggers()), "queue"),
    }


def actions(resource: str, access: Access) -> frozenset[str]:
    """The IAM actions a grant of `access` on `resource` allows."""
    kinds = resource_kinds()
    if resource not in kinds:
        raise KeyError(f"grant on unknown resource {resource!r}; known: {sorted(kinds)}")
    return actions_of(kinds[resource], access, resource)
