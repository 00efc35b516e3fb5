"""Every resource the topology names, created in moto, and each function's environment resolved to it.

`ecrm local` (moto in server mode) and `ecrm invoke` / the integration tests (`mock_aws`) call the
same `create_all`, so the three run against identical resources and env vars.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecrm.names import METRICS_NAMESPACE, SERVICE, Resource
from ecrm_infra import topology

if TYPE_CHECKING:
    from boto3.session import Session

PREFIX = "ecrm-local"
DEFAULT_BASE_URL = "http://localhost:3000"
CONTEXT_PREFIX = "context:"
QUEUE_KEY = "_queue:"
# Short on purpose: a failed SQS record is retried (and reaches its DLQ) within seconds locally.
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 2
# The same table layout as infra/ecrm_infra/data.py (not imported: it pulls in CDK).
GSI1 = "gsi1"
TTL_ATTRIBUTE = "expires_at"
OBSERVABILITY_ENV = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "LOG_LEVEL": "INFO",
}


def physical_name(logical: str) -> str:
    return f"{PREFIX}-{logical}"


def dlq_name(queue_logical: str) -> str:
    return f"{physical_name(queue_logical)}-dlq"


def rule_name(queue_logical: str) -> str:
    return f"{physical_name(queue_logical)}-rule"


@dataclass(frozen=True)
class Created:
    """What a resource contributes: the value its env vars carry (name, ARN or URL)."""

    env_value: str


def _table(session: Session, logical: str) -> Created:
    name = physical_name(logical)
    ddb = session.client("dynamodb")
    keys = ("pk", "sk", "gsi1pk", "gsi1sk")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    return Created(name)


def _bus(session: Session, logical: str) -> Created:
    name = physical_name(logical)
    session.client("events").create_event_bus(Name=name)
    return Created(name)


def _secret(session: Session, logical: str) -> Created:
    answer = session.client("secretsmanager").create_secret(
        Name=physical_name(logical), SecretString=secrets.token_urlsafe(48)
    )
    return Created(answer["ARN"])  # functions get the ARN, as in AWS (ecrm_infra.bindings)


def _queue(session: Session, logical: str) -> Created:
    trigger = _trigger_of(logical)
    sqs = session.client("sqs")
    dlq_url = sqs.create_queue(QueueName=dlq_name(logical))["QueueUrl"]
    dlq_arn = queue_arn(session, dlq_url)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(trigger.max_receive_count)}
    url = sqs.create_queue(
        QueueName=physical_name(logical),
        Attributes={
            "VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    events = session.client("events")
    bus = physical_name(Resource.EVENT_BUS)
    events.put_rule(Name=rule_name(logical), EventBusName=bus, EventPattern=json.dumps(trigger.event_pattern))
    events.put_targets(
        Rule=rule_name(logical), EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn(session, url)}]
    )
    return Created(url)


def queue_arn(session: Session, url: str) -> str:
    attrs = session.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attrs["Attributes"]["QueueArn"]
    return arn


def _trigger_of(queue_logical: str) -> topology.QueueTrigger:
    return next(f.queue for f in topology.FUNCTIONS if f.queue and f.queue.queue == queue_logical)


# One creator per kind of resource the topology may name. A name with no creator fails loudly,
# so a resource added to the topology cannot silently be missing locally.
CREATORS: dict[str, Callable[[Session, str], Created]] = {
    Resource.CONTACTS_TABLE: _table,
    Resource.EVENT_BUS: _bus,  # before the queues: their rules live on it
    Resource.SIGNING_SECRET: _secret,
    Resource.CONSENT_MAIL_QUEUE: _queue,
}
MAIL = "ses"  # the grant key for sending mail: not a stack resource, the sender identity instead


def named_resources(functions: Iterable[topology.Function] = topology.FUNCTIONS) -> list[str]:
    """Every logical resource name the topology mentions, in creation order."""
    names: set[str] = set()
    for fn in functions:
        names.update(v for v in fn.env.values() if not v.startswith(CONTEXT_PREFIX))
        names.update(g for g in fn.grants if g != MAIL)
        if fn.queue:
            names.add(fn.queue.queue)
    unknown = names - CREATORS.keys()
    if unknown:
        raise ValueError(f"no local creator for topology resource(s): {sorted(unknown)}")
    return [n for n in CREATORS if n in names]


def _mail(session: Session, context: dict[str, str]) -> None:
    """Verify the sender (address and domain) and create the configuration set, so sends succeed."""
    sender = context["senderAddress"]
    ses = session.client("ses")
    ses.verify_email_identity(EmailAddress=sender)
    ses.verify_domain_identity(Domain=sender.rpartition("@")[2])
    session.client("sesv2").create_configuration_set(ConfigurationSetName=context["sesConfigurationSet"])


def local_context(base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
    """CONTEXT_DEFAULTS with the default local URL moved to where this stack really listens."""
    return {key: _localize(value, base_url) for key, value in topology.CONTEXT_DEFAULTS.items()}


def _localize(value: str, base_url: str) -> str:
    port = base_url.rsplit(":", 1)[-1]
    moved = value.replace(DEFAULT_BASE_URL, base_url).replace("http://127.0.0.1:3000", f"http://127.0.0.1:{port}")
    if moved == value or "," not in moved:
        return moved
    return ",".join(dict.fromkeys(part.strip() for part in moved.split(",")))  # drop duplicate origins


def environment(
    values: dict[str, str], context: dict[str, str], functions: Iterable[topology.Function] = topology.FUNCTIONS
) -> dict[str, str]:
    """One process runs every function, so one env var name must mean one value for all of them."""
    env = dict(OBSERVABILITY_ENV)
    owner: dict[str, str] = {}
    for fn in functions:
        for var, source in fn.env.items():
            is_context = source.startswith(CONTEXT_PREFIX)
            value = context[source.removeprefix(CONTEXT_PREFIX)] if is_context else values[source]
            if var in owner and env[var] != value:
                raise ValueError(f"{var}: {owner[var]} needs {env[var]!r} but {fn.name} needs {value!r}")
            env[var] = value
            owner[var] = fn.name
    return env


def create_all(session: Session, base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
    """Create every topology resource through `session` (moto) and answer the functions' env vars.

    Besides the env vars, `_queue:<logical name>` keys name each trigger queue's physical queue
    (tests read them); `function_env` drops them.
    """
    context = local_context(base_url)
    values = {name: CREATORS[name](session, name).env_value for name in named_resources()}
    if any(MAIL in fn.grants for fn in topology.FUNCTIONS):
        _mail(session, context)
    queues = {f"{QUEUE_KEY}{fn.queue.queue}": physical_name(fn.queue.queue) for fn in topology.FUNCTIONS if fn.queue}
    return environment(values, context) | queues


def function_env(created: dict[str, str]) -> dict[str, str]:
    """What create_all answered, less the queue-name keys: the env vars to set."""
    return {k: v for k, v in created.items() if not k.startswith(QUEUE_KEY)}


def queue_url(session: Session, queue_logical: str) -> str:
    url: str = session.client("sqs").get_queue_url(QueueName=physical_name(queue_logical))["QueueUrl"]
    return url
