"""What the webhooks API accepts and answers, and what a delivery is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from ecrm.model import Model
from ecrm.types import PlainText
from ecrm.webhooks.catalogue import BY_NAME

EndpointId = Annotated[str, StringConstraints(pattern=r"^ep_[0-9a-f]{32}$")]
MessageId = Annotated[str, StringConstraints(pattern=r"^msg_[0-9a-f]{32}$")]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]
FilterField = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]
Status = Literal["pending", "delivered", "failed", "cancelled"]
MAX_RATE = 100
DEFAULT_RATE = 10


class EndpointRequest(Model):
    """POST /webhooks and PUT /webhooks/{id} (the whole endpoint; `expected_version` on PUT)."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        description="https URL whose host resolves to public addresses only"
    )
    event_types: list[str] = Field(
        min_length=1, max_length=len(BY_NAME), description="webhook types, e.g. case.created"
    )
    filters: dict[FilterField, list[FilterValue]] = Field(
        default_factory=dict,
        max_length=10,
        description="payload field -> values: a delivery is made only when each named field holds one of its "
        'values (a list field: any of them), e.g. {"tags": ["vip"]}',
    )
    description: Annotated[PlainText, StringConstraints(max_length=500)] = ""
    enabled: bool = True
    rate_per_second: int = Field(default=DEFAULT_RATE, ge=1, le=MAX_RATE, description="deliveries a second, at most")
    expected_version: int | None = Field(default=None, ge=1)

    @field_validator("event_types")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BY_NAME))
        if unknown:
            raise ValueError(f"unknown webhook types {unknown}; known: {sorted(BY_NAME)}")
        return sorted(set(value))


class WebhookTypeView(Model):
    """A webhook type: the bus event it is, and the fields its payload's `data` may carry."""

    name: str
    description: str
    event: str = Field(description="the bus event's detail-type, e.g. ContactCaptured.v1")
    fields: list[str]


class SigningSecret(Model):
    secret: str
    created_at: datetime
    expires_at: datetime | None = None  # a rotated secret signs too until then


class Endpoint(Model):
    """An endpoint as the API shows it (never its secrets)."""

    id: str
    url: str
    event_types: list[str]
    filters: dict[str, list[str]]
    description: str
    enabled: bool
    rate_per_second: int
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = Field(default=None, description="first failure since the last success")
    disabled_reason: str | None = None
    version: int = 1


class StoredEndpoint(Endpoint):
    """An endpoint as stored: with its signing secrets, newest first."""

    secrets: list[SigningSecret]

    def public(self) -> Endpoint:
        return Endpoint.model_validate(self.model_dump(exclude={"secrets"}))

    def secrets_in_use(self, now: datetime) -> list[str]:
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


class EndpointCreated(Endpoint):
    """The new endpoint and its signing secret: shown this once, keep it."""

    secret: str


class RotateRequest(Model):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(default=24, ge=0, le=168, description="how long the previous secret still signs")


class RotatedSecret(Model):
    """The new signing secret, shown this once; the previous one signs too until `previous_expires_at`."""

    secret: str
    previous_expires_at: datetime


class ReplayRequest(Model):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(description="events that happened at or after this time (timezone required)")
    until: datetime | None = Field(default=None, description="and before this time; default: now")

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a timezone (2026-12-06T10:00:00Z)")
        return value


class RedeliverRequest(Model):
    """POST …/redeliver takes no fields: an empty object or no body. Anything else is refused, as
    every POST's malformed or unexpected body is (nothing in a body is ever silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Queued(Model):
    """A redelivery on its way: the same message id and payload, retried for a day again."""

    message_id: str
    queued: bool = True


class Replayed(Model):
    redelivered: int = Field(description="failed or cancelled deliveries in the range sent again")
    complete: bool = Field(description="false: more than could be replayed at once; replay from the last one")


class AttemptRecord(Model):
    """One POST of a delivery, as its log shows it."""

    number: int
    at: datetime
    status_code: int | None = Field(description="the receiver's HTTP status; null: no answer (see error)")
    latency_ms: int
    error: str | None = None
    response: str = Field(default="", description="the first 200 characters of the answer's body")


class Delivery(Model):
    """One event for one endpoint: the payload, its attempts and where it stands."""

    message_id: str
    endpoint_id: str
    type: str
    status: Status
    attempts: int
    created_at: datetime
    retry_from: datetime = Field(description="retries end a day after this (creation, or the last redelivery)")
    next_attempt_at: datetime | None = None
    payload: str = Field(description="the body as sent (the same bytes on every attempt)")
    log: list[AttemptRecord] = []


class DeliveryPage(Model):
    items: list[Delivery]
    next_cursor: str | None = None


class AttemptMessage(Model):
    """On the delivery queue (sent by the fan-out, by a redelivery, or by a retry timer): make the
    attempt after `attempt` done ones, if the delivery still stands there."""

    model_config = ConfigDict(extra="forbid")

    endpoint_id: str
    message_id: str
    attempt: int = Field(ge=0)
