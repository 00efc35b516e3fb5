"""Every resource the topology names, created in moto, and each function's environment resolved to it.

`ecrm local` (moto in server mode) and `ecrm invoke` / the integration tests (`mock_aws`) call the
same `create_all`, so the three run against identical resources and env vars.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from ecrm.names import METRICS_NAMESPACE, SERVICE, Resource
from ecrm_infra import topology
from ecrm_infra.topology import CONTEXT_PREFIX

from ecrm_local.lambdas import ACCOUNT

if TYPE_CHECKING:
    from boto3.session import Session

PREFIX = "ecrm-local"
DEFAULT_BASE_URL = "http://localhost:3000"
QUEUE_KEY = "_queue:"
# Short on purpose: a failed SQS record is retried (and reaches its DLQ) within seconds locally.
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 2
SCHEDULER_ROLE_NAME = "ecrm-local-scheduler"
OBSERVABILITY_ENV = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "LOG_LEVEL": "INFO",
}
# Resource name -> attribute (None: the plain value) -> what an env var naming it carries.
Values = dict[str, dict[str | None, str]]


def physical_name(logical: str) -> str:
    return f"{PREFIX}-{logical}"


def dlq_name(queue_logical: str) -> str:
    return f"{physical_name(queue_logical)}-dlq"


def rule_name(queue_logical: str, n: int = 0) -> str:
    """The queue's rule (`n`: its n-th, from 0, when it has more than one)."""
    return f"{physical_name(queue_logical)}-rule" + (f"-{n + 1}" if n else "")


def _table(session: Session, spec: topology.Table) -> dict[str | None, str]:
    name = physical_name(spec.name)
    ddb = session.client("dynamodb")
    keys = ["pk", "sk", *(f"{index}{part}" for index in spec.indexes for part in ("pk", "sk"))]
    indexes: list[Any] = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in spec.indexes
    ]
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if spec.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ddb.create_table(**request)
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
    )
    return {None: name}


def bucket_name(logical: str) -> str:
    """S3 bucket names are lower case."""
    return physical_name(logical).lower()


def _bucket(session: Session, spec: topology.Bucket) -> dict[str | None, str]:
    name = bucket_name(spec.name)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "expire-hand-overs", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": spec.expire_days}}
            ]
        },
    )
    return {None: name}


def _bus(session: Session) -> dict[str | None, str]:
    name = physical_name(Resource.EVENT_BUS)
    session.client("events").create_event_bus(Name=name)
    return {None: name}


def _secret(session: Session) -> dict[str | None, str]:
    answer = session.client("secretsmanager").create_secret(
        Name=physical_name(Resource.SIGNING_SECRET), SecretString=secrets.token_urlsafe(48)
    )
    return {None: answer["ARN"]}  # functions get the ARN, as in AWS (ecrm_infra.bindings)


def _schedules(session: Session, group: str) -> dict[str | None, str]:
    name = physical_name(group)
    session.client("scheduler").create_schedule_group(Name=name)
    # moto keeps the role ARN on each schedule and checks nothing; the ARN has the shape AWS's has.
    return {None: name, "role": f"arn:aws:iam::{ACCOUNT}:role/{SCHEDULER_ROLE_NAME}"}


def _queue(session: Session, trigger: topology.QueueTrigger) -> dict[str | None, str]:
    sqs = session.client("sqs")
    dlq_url = sqs.create_queue(QueueName=dlq_name(trigger.queue))["QueueUrl"]
    redrive = {"deadLetterTargetArn": queue_arn(session, dlq_url), "maxReceiveCount": str(trigger.max_receive_count)}
    url = sqs.create_queue(
        QueueName=physical_name(trigger.queue),
        Attributes={
            "VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    arn = queue_arn(session, url)
    events = session.client("events")
    for n, rule in enumerate(trigger.rules):
        bus = physical_name(Resource.EVENT_BUS) if rule.bus == "custom" else "default"
        name = rule_name(trigger.queue, n)
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule.event_pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return {None: url, "arn": arn}


def queue_arn(session: Session, url: str) -> str:
    attrs = session.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attrs["Attributes"]["QueueArn"]
    return arn


def known_resources() -> set[str]:
    """Every resource name the local stack knows how to make."""
    return {
        *topology.PLATFORM_RESOURCES,
        *(t.name for t in topology.TABLES),
        *(b.name for b in topology.BUCKETS),
        *topology.SCHEDULE_GROUPS,
        *(trigger.queue for trigger, _ in topology.queue_triggers()),
    }


def named_resources(functions: Iterable[topology.Function] = topology.FUNCTIONS) -> set[str]:
    """Every resource name the functions mention. A name with no local counterpart fails loudly,
    so a resource added to the topology cannot silently be missing locally."""
    names: set[str] = set()
    for fn in functions:
        names.update(topology.split_source(v)[0] for v in fn.env.values() if topology.names_resource(v))
        names.update(fn.grants)
        if fn.queue:
            names.add(fn.queue.queue)
    unknown = names - known_resources()
    if unknown:
        raise ValueError(f"no local creator for topology resource(s): {sorted(unknown)}")
    return names


def _mail(session: Session, context: dict[str, str]) -> None:
    """Verify the sender (address and domain) and create the configuration set, so sends succeed."""
    sender = context["senderAddress"]
    ses = session.client("ses")
    ses.verify_email_identity(EmailAddress=sender)
    ses.verify_domain_identity(Domain=sender.rpartition("@")[2])
    session.client("sesv2").create_configuration_set(ConfigurationSetName=context["sesConfigurationSet"])


# Set for the local stack only: webhook receivers on a developer's machine listen on loopback (http).
LOCAL_ONLY = {"webhookAllowLoopback": "true"}


def local_context(base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
    """CONTEXT_DEFAULTS with the default local URL moved to where this stack really listens, and
    the settings only a local stack has (`LOCAL_ONLY`)."""
    return {key: _localize(value, base_url) for key, value in topology.CONTEXT_DEFAULTS.items()} | LOCAL_ONLY


def _localize(value: str, base_url: str) -> str:
    port = base_url.rsplit(":", 1)[-1]
    moved = value.replace(DEFAULT_BASE_URL, base_url).replace("http://127.0.0.1:3000", f"http://127.0.0.1:{port}")
    if moved == value or "," not in moved:
        return moved
    return ",".join(dict.fromkeys(part.strip() for part in moved.split(",")))  # drop duplicate origins


def environment(
    values: Values, context: dict[str, str], functions: Iterable[topology.Function] = topology.FUNCTIONS
) -> dict[str, str]:
    """One process runs every function, so one env var name must mean one value for all of them."""
    env = dict(OBSERVABILITY_ENV)
    owner: dict[str, str] = {}
    for fn in functions:
        for var, source in fn.env.items():
            value = _env_value(source, values, context)
            if var in owner and env[var] != value:
                raise ValueError(f"{var}: {owner[var]} needs {env[var]!r} but {fn.name} needs {value!r}")
            env[var] = value
            owner[var] = fn.name
    return env


def _env_value(source: str, values: Values, context: dict[str, str]) -> str:
    if source.startswith(CONTEXT_PREFIX):
        return context[source.removeprefix(CONTEXT_PREFIX)]
    if source.startswith(topology.VALUE_PREFIX):
        return source.removeprefix(topology.VALUE_PREFIX)
    name, attribute = topology.split_source(source)
    return values[name][attribute]


class _EachClientOnce:
    """A session that makes each service's client once: making clients, not the calls, dominated
    the time to create every resource (each test's moto stack pays it)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self.region_name = session.region_name

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service)  # type: ignore[call-overload]
        return self._clients[service]


def create_all(session: Session, base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
    """Create every topology resource through `session` (moto) and answer the functions' env vars.

    Besides the env vars, `_queue:<logical name>` keys name each trigger queue's physical queue
    (tests read them); `function_env` drops them.
    """
    named_resources()
    session = cast("Session", _EachClientOnce(session))
    context = local_context(base_url)
    values: Values = {
        Resource.EVENT_BUS: _bus(session),  # before the queues: their rules live on it
        Resource.SIGNING_SECRET: _secret(session),
        **{group: _schedules(session, group) for group in topology.SCHEDULE_GROUPS},
        **{spec.name: _table(session, spec) for spec in topology.TABLES},
        **{spec.name: _bucket(session, spec) for spec in topology.BUCKETS},
        **{trigger.queue: _queue(session, trigger) for trigger, _ in topology.queue_triggers()},
    }
    if any(Resource.MAIL in fn.grants for fn in topology.FUNCTIONS):
        _mail(session, context)
    queues = {f"{QUEUE_KEY}{trigger.queue}": physical_name(trigger.queue) for trigger, _ in topology.queue_triggers()}
    return environment(values, context) | queues


def function_env(created: dict[str, str]) -> dict[str, str]:
    """What create_all answered, less the queue-name keys: the env vars to set."""
    return {k: v for k, v in created.items() if not k.startswith(QUEUE_KEY)}


def queue_url(session: Session, queue_logical: str) -> str:
    url: str = session.client("sqs").get_queue_url(QueueName=physical_name(queue_logical))["QueueUrl"]
    return url
