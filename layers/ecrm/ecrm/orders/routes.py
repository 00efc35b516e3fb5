"""The shop's routes (orders_api): an order, a refund, each answered once it is on the bus. Only
machine clients with `orders.write` call them, at `/integrations/...` (ecrm.access, decision 85)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ecrm.loyalty.shop import BusinessId
from ecrm.orders.models import Accepted, OrderRequest, RefundRequest
from ecrm.orders.service import OrderGateway, Outcome

ACCEPTED: dict[int, OpenAPIResponse] = {
    202: {"description": "accepted: the event is on the bus"},
    200: {"description": "a repeat of an accepted body: the first answer, nothing published again"},
    409: {"description": "the id was posted before with a different body (nothing is published)"},
    503: {"description": "the bus did not take the event: retry the same request (`Retry-After`)"},
}


def register(app: APIGatewayRestResolver, service: Callable[[], OrderGateway]) -> None:
    """Add the shop's routes to `app`; `service()` is the cached composition root."""

    @app.post("/orders", summary="An order the shop placed: OrderPlaced.v1 on the bus", responses=ACCEPTED)
    def place(order: OrderRequest) -> Response[Accepted]:
        return _answer(service().place(order))

    @app.post(
        "/orders/<order_id>/refunds",
        summary="A refund of an order: OrderRefunded.v1 on the bus",
        responses=ACCEPTED,
    )
    def refund(order_id: BusinessId, request: RefundRequest) -> Response[Accepted]:
        return _answer(service().refund(order_id, request))


def _answer(outcome: Outcome) -> Response[Accepted]:
    return Response(200 if outcome.replayed else 202, content_types.APPLICATION_JSON, outcome.accepted)
