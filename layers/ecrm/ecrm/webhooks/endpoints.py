"""Endpoints admins register: the URL checked against SSRF rules, the types and filters it takes,
its signing secrets (shown once, rotated with an overlap), its delivery log, redelivery and replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from ecrm.clock import Clock
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.webhooks import signatures
from ecrm.webhooks.catalogue import BY_NAME, TYPES
from ecrm.webhooks.delivery import message_range
from ecrm.webhooks.destinations import destination
from ecrm.webhooks.models import (
    AttemptMessage,
    DeliveryPage,
    Endpoint,
    EndpointCreated,
    EndpointRequest,
    Replayed,
    ReplayRequest,
    RotatedSecret,
    RotateRequest,
    SigningSecret,
    StoredEndpoint,
    WebhookTypeView,
)
from ecrm.webhooks.ports import AttemptQueue, DeliveryLog, EndpointRepository, HostDirectory

MAX_ENDPOINTS = 50  # every event reads them all: a handful per account, not thousands
MAX_REPLAY = 500


def _filters_fit(request: EndpointRequest) -> None:
    fields = {name for t in request.event_types for name in BY_NAME[t].fields}
    unknown = sorted(set(request.filters) - fields)
    if unknown:
        raise InvalidInput("filters", f"{', '.join(unknown)}: no payload of the chosen types has such a field")


@dataclass(frozen=True)
class EndpointService:
    endpoints: EndpointRepository
    deliveries: DeliveryLog
    attempts: AttemptQueue
    hosts: HostDirectory
    clock: Clock
    allow_loopback: bool = False
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    def create(self, request: EndpointRequest) -> EndpointCreated:
        self._check(request)
        if len(self.endpoints.all()) >= MAX_ENDPOINTS:
            raise InvalidInput("url", f"at most {MAX_ENDPOINTS} endpoints; delete one first", status=409)
        now = self.clock.now()
        secret = signatures.new_secret()
        endpoint = StoredEndpoint(
            id=f"ep_{self.new_id()}",
            url=request.url,
            event_types=request.event_types,
            filters=request.filters,
            description=request.description,
            enabled=request.enabled,
            rate_per_second=request.rate_per_second,
            created_at=now,
            updated_at=now,
            secrets=[SigningSecret(secret=secret, created_at=now)],
        )
        self.endpoints.create(endpoint)
        return EndpointCreated(**endpoint.public().model_dump(), secret=secret)

    def update(self, endpoint_id: str, request: EndpointRequest) -> Endpoint:
        before = self._stored(endpoint_id)
        if request.expected_version is not None and request.expected_version != before.version:
            raise Conflict(f"endpoint is at version {before.version}, not {request.expected_version}")
        self._check(request)
        enabling = request.enabled and not before.enabled
        after = before.model_copy(
            update={
                "url": request.url,
                "event_types": request.event_types,
                "filters": request.filters,
                "description": request.description,
                "enabled": request.enabled,
                "rate_per_second": request.rate_per_second,
                "updated_at": self.clock.now(),
                "version": before.version + 1,
                # enabled again by hand: its failures so far are forgiven
                **({"failing_since": None, "disabled_reason": None} if enabling else {}),
            }
        )
        self.endpoints.save(after, before.version)
        return after.public()

    @staticmethod
    def types() -> list[WebhookTypeView]:
        return [
            WebhookTypeView(name=t.name, description=t.description, event=t.detail_type, fields=list(t.fields))
            for t in TYPES
        ]

    def get(self, endpoint_id: str) -> Endpoint:
        return self._stored(endpoint_id).public()

    def list(self) -> list[Endpoint]:
        return [e.public() for e in sorted(self.endpoints.all(), key=lambda e: e.created_at)]

    def delete(self, endpoint_id: str) -> None:
        if not self.endpoints.delete(endpoint_id):
            raise NotFound("endpoint")

    def rotate(self, endpoint_id: str, request: RotateRequest) -> RotatedSecret:
        before = self._stored(endpoint_id)
        now = self.clock.now()
        until = now + timedelta(hours=request.overlap_hours)
        kept = [
            s.model_copy(update={"expires_at": min(s.expires_at or until, until)})
            for s in before.secrets
            if s.expires_at is None or s.expires_at > now
        ]
        secret = signatures.new_secret()
        after = before.model_copy(
            update={
                "secrets": [SigningSecret(secret=secret, created_at=now), *kept],
                "updated_at": now,
                "version": before.version + 1,
            }
        )
        self.endpoints.save(after, before.version)
        return RotatedSecret(secret=secret, previous_expires_at=until)

    # -- deliveries ------------------------------------------------------------------------------
    def log(self, endpoint_id: str, limit: int, cursor: str | None) -> DeliveryPage:
        """The endpoint's deliveries, newest first, with every attempt (status, latency, answer)."""
        self._stored(endpoint_id)
        return self.deliveries.page(endpoint_id, limit, cursor)

    def redeliver(self, endpoint_id: str, message_id: str) -> None:
        self._enabled(endpoint_id)
        delivery = self.deliveries.get(endpoint_id, message_id)
        if delivery is None:
            raise NotFound("delivery")
        if delivery.status == "pending" or not self.deliveries.reopen(
            endpoint_id, message_id, delivery.attempts, self.clock.now()
        ):
            raise Conflict("the delivery is still being attempted")
        self.attempts.enqueue(
            [AttemptMessage(endpoint_id=endpoint_id, message_id=message_id, attempt=delivery.attempts)]
        )

    def replay(self, endpoint_id: str, request: ReplayRequest) -> Replayed:
        """Every failed or cancelled delivery of events in the range, sent again (oldest first)."""
        self._enabled(endpoint_id)
        until = request.until or self.clock.now()
        if until <= request.since:
            raise InvalidInput("until", "must be after since")
        first, last = message_range(request.since, until)
        found = self.deliveries.between(endpoint_id, first, last, MAX_REPLAY + 1)
        now = self.clock.now()
        again = [
            AttemptMessage(endpoint_id=endpoint_id, message_id=d.message_id, attempt=d.attempts)
            for d in found[:MAX_REPLAY]
            if d.status in ("failed", "cancelled")
            and self.deliveries.reopen(endpoint_id, d.message_id, d.attempts, now)
        ]
        self.attempts.enqueue(again)
        return Replayed(redelivered=len(again), complete=len(found) <= MAX_REPLAY)

    # -- plumbing --------------------------------------------------------------------------------
    def _check(self, request: EndpointRequest) -> None:
        _filters_fit(request)
        destination(request.url, self.hosts, self.allow_loopback)

    def _stored(self, endpoint_id: str) -> StoredEndpoint:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound("endpoint")
        return endpoint

    def _enabled(self, endpoint_id: str) -> StoredEndpoint:
        endpoint = self._stored(endpoint_id)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled: enable it first")
        return endpoint
