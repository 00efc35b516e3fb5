"""The one declaration of functions, triggers, environment and permissions.

The CDK constructs (ecrm_infra.stack), the local runner (ecrm_local) and the tests all read this
module; nothing else lists routes, queues, rules, env vars or grants. Plain data: no CDK import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ecrm import access, settings
from ecrm.names import DetailType, Env, Resource, Source


class Access(StrEnum):
    READ = "read"
    READ_WRITE = "read_write"
    PUT_EVENTS = "put_events"
    SEND_MAIL = "send_mail"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: tuple[str, ...] = ()  # empty = public (throttled, WAF-protected, no authorizer)

    @property
    def public(self) -> bool:
        return not self.roles


@dataclass(frozen=True)
class QueueTrigger:
    """EventBridge rule -> SQS queue (with DLQ) -> function, partial batch responses on."""

    queue: str
    detail_types: tuple[str, ...]
    detail_filter: dict[str, list[object]] = field(default_factory=dict)
    batch_size: int = 10
    max_receive_count: int = 5

    @property
    def event_pattern(self) -> dict[str, object]:
        pattern: dict[str, object] = {"source": [Source.CONTACTS], "detail-type": list(self.detail_types)}
        if self.detail_filter:
            pattern["detail"] = self.detail_filter
        return pattern


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/, and the handler package Lambda imports
    description: str
    settings: type[settings._FromEnv]
    env: dict[str, str]  # env var -> Resource logical name, or a "context:<key>" value
    grants: dict[str, Access]  # Resource logical name -> access
    routes: tuple[Route, ...] = ()
    queue: QueueTrigger | None = None
    timeout_seconds: int = 10
    memory_mb: int = 512

    @property
    def handler(self) -> str:
        return f"{self.name}.handler.lambda_handler"


_TABLE_AND_BUS = {Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE, Env.EVENT_BUS: Resource.EVENT_BUS}

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="contacts_capture",
        description="Public web-form capture of contacts and double opt-in confirmation",
        settings=settings.CaptureSettings,
        env={
            **_TABLE_AND_BUS,
            Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
            Env.THANK_YOU_URL: "context:thankYouUrl",
            Env.ALLOWED_ORIGINS: "context:allowedOrigins",
            Env.CONSENT_TEXT_VERSION: "context:consentTextVersion",
        },
        grants={
            Resource.CONTACTS_TABLE: Access.READ_WRITE,
            Resource.EVENT_BUS: Access.PUT_EVENTS,
            Resource.SIGNING_SECRET: Access.READ,
        },
        routes=(
            Route("POST", "/contacts"),
            Route("GET", "/contacts/confirm"),
            Route("POST", "/contacts/confirm"),
        ),
    ),
    Function(
        name="contacts_api",
        description="Role-protected contact lookup, search, update, GDPR export and erasure",
        settings=settings.ContactsApiSettings,
        env=dict(_TABLE_AND_BUS),
        grants={Resource.CONTACTS_TABLE: Access.READ_WRITE, Resource.EVENT_BUS: Access.PUT_EVENTS},
        routes=(
            Route("GET", "/contacts", access.CONTACT_READ),
            Route("GET", "/contacts/{contact_id}", access.CONTACT_READ),
            Route("PATCH", "/contacts/{contact_id}", access.CONTACT_EDIT),
            Route("GET", "/contacts/{contact_id}/export", access.CONTACT_GDPR),
            Route("DELETE", "/contacts/{contact_id}", access.CONTACT_GDPR),
        ),
    ),
    Function(
        name="consent_mailer",
        description="Sends the double opt-in confirmation mail, once per consent request",
        settings=settings.ConsentMailerSettings,
        env={
            Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
            Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
            Env.SENDER: "context:senderAddress",
            Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
            Env.CONFIRM_URL: "context:confirmPageUrl",
            Env.CONFIRM_TTL_HOURS: "context:confirmTokenTtlHours",
        },
        grants={
            Resource.CONTACTS_TABLE: Access.READ_WRITE,
            Resource.SIGNING_SECRET: Access.READ,
            "ses": Access.SEND_MAIL,
        },
        queue=QueueTrigger(
            queue=Resource.CONSENT_MAIL_QUEUE,
            detail_types=(DetailType.CONTACT_CAPTURED, DetailType.CONTACT_UPDATED),
            detail_filter={"consent_requested": [True]},
        ),
        timeout_seconds=20,
    ),
)

# Defaults for "context:<key>" values; `cdk -c key=value` (or cdk.json) overrides them in AWS,
# and the local runner uses them as they are.
CONTEXT_DEFAULTS: dict[str, str] = {
    "thankYouUrl": "http://localhost:3000/_local/thanks",
    "allowedOrigins": "http://localhost:3000,http://127.0.0.1:3000",
    "consentTextVersion": "marketing-2026-11",
    "senderAddress": "news@example.com",
    "sesConfigurationSet": "ecrm-default",
    "confirmPageUrl": "http://localhost:3000/contacts/confirm",
    "confirmTokenTtlHours": "72",
}


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def routes() -> list[tuple[Route, Function]]:
    return [(r, f) for f in FUNCTIONS for r in f.routes]
