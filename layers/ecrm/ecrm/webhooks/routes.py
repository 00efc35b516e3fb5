"""The webhooks routes (admins register endpoints, rotate secrets, read delivery logs, redeliver
and replay), registered on the webhooks_api resolver. Who may call each is declared in
`ecrm.access` and checked at the edge before the request is validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from ecrm.api import ERROR_CONTENT
from ecrm.webhooks.endpoints import EndpointService
from ecrm.webhooks.models import (
    DeliveryPage,
    Endpoint,
    EndpointCreated,
    EndpointId,
    EndpointRequest,
    MessageId,
    Queued,
    RedeliverRequest,
    Replayed,
    ReplayRequest,
    RotatedSecret,
    RotateRequest,
    WebhookTypeView,
)

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
CONFLICT = {"description": "changed meanwhile, disabled, or still being delivered", "content": ERROR_CONTENT}
CREATED: dict[int, Any] = {
    201: {
        "description": "created; `secret` is shown this once",
        "content": {"application/json": {"model": EndpointCreated}},
    },
    409: {"description": "too many endpoints", "content": ERROR_CONTENT},
}
SAVED: dict[int, Any] = {
    200: {"description": "saved", "content": {"application/json": {"model": Endpoint}}},
    409: CONFLICT,
}
ACCEPTED: dict[int, Any] = {
    202: {"description": "queued for delivery", "content": {"application/json": {"model": Queued}}},
    409: CONFLICT,
}
REPLAYED: dict[int, Any] = {
    202: {"description": "queued", "content": {"application/json": {"model": Replayed}}},
    409: CONFLICT,
}
ROTATED: dict[int, Any] = {
    200: {"description": "the new secret", "content": {"application/json": {"model": RotatedSecret}}},
    409: CONFLICT,
}


def register(app: APIGatewayRestResolver, service: Callable[[], EndpointService]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""
    _endpoints(app, service)
    _deliveries(app, service)


def _endpoints(app: APIGatewayRestResolver, service: Callable[[], EndpointService]) -> None:

    @app.post(
        "/webhooks",
        summary="Register an endpoint: an https URL, the event types it takes, filters on their payload",
        security=SECURED,
        status_code=201,
        responses=CREATED,
    )
    def create(request: EndpointRequest) -> EndpointCreated:
        return service().create(request)

    @app.get("/webhooks", summary="Every endpoint (never its secrets)", security=SECURED)
    def endpoints() -> list[Endpoint]:
        return service().list()

    @app.get(
        "/webhooks/types", summary="The webhook types: the event each is and its payload's fields", security=SECURED
    )
    def types() -> list[WebhookTypeView]:
        return service().types()

    @app.get("/webhooks/<endpoint_id>", summary="One endpoint", security=SECURED)
    def endpoint(endpoint_id: EndpointId) -> Endpoint:
        return service().get(endpoint_id)

    @app.put(
        "/webhooks/<endpoint_id>",
        summary="Replace an endpoint's URL, types, filters, rate; enabling it again forgives its failures",
        security=SECURED,
        responses=SAVED,
    )
    def update(endpoint_id: EndpointId, request: EndpointRequest) -> Endpoint:
        return service().update(endpoint_id, request)

    @app.delete(
        "/webhooks/<endpoint_id>",
        summary="Delete an endpoint (its pending deliveries are cancelled)",
        security=SECURED,
        responses={204: {"description": "deleted"}},
    )
    def delete(endpoint_id: EndpointId) -> Response[str]:
        service().delete(endpoint_id)
        return Response(204, body="")

    @app.post(
        "/webhooks/<endpoint_id>/rotate",
        summary="A new signing secret; the previous one also signs until the overlap ends",
        security=SECURED,
        responses=ROTATED,
    )
    def rotate(endpoint_id: EndpointId, request: RotateRequest) -> RotatedSecret:
        return service().rotate(endpoint_id, request)


def _deliveries(app: APIGatewayRestResolver, service: Callable[[], EndpointService]) -> None:
    @app.get(
        "/webhooks/<endpoint_id>/deliveries",
        summary="The endpoint's deliveries, newest first: status, every attempt's answer and latency",
        security=SECURED,
    )
    def deliveries(
        endpoint_id: EndpointId,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> DeliveryPage:
        return service().log(endpoint_id, limit, cursor)

    @app.post(
        "/webhooks/<endpoint_id>/deliveries/<message_id>/redeliver",
        summary="Send one settled delivery again (the same id and payload; retried for a day again)",
        security=SECURED,
        status_code=202,
        responses=ACCEPTED,
    )
    def redeliver(
        endpoint_id: EndpointId,
        message_id: MessageId,
        _request: Annotated[RedeliverRequest | None, Body(alias="request")] = None,
    ) -> Queued:
        service().redeliver(endpoint_id, message_id)
        return Queued(message_id=message_id)

    @app.post(
        "/webhooks/<endpoint_id>/replay",
        summary="Send again every failed or cancelled delivery of events in a time range",
        security=SECURED,
        status_code=202,
        responses=REPLAYED,
    )
    def replay(endpoint_id: EndpointId, request: ReplayRequest) -> Replayed:
        return service().replay(endpoint_id, request)
