"""The loyalty API's HTTP edge, shared by its handlers: who calls, the Idempotency-Key header, and
how a posted entry is answered."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from ecrm import access
from ecrm.loyalty.models import EntryResult
from ecrm.observability import metrics

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="8-100 of [A-Za-z0-9_.:-]; a repeat gets the first answer"),
]
ENTRY_RESPONSES: dict[int, OpenAPIResponse] = {
    201: {"description": "posted"},
    200: {"description": "a repeat of the Idempotency-Key: the first answer, `replayed: true`"},
}
_POSTED = {"redeem": "PointsRedeemed", "adjust": "PointsAdjusted"}


def caller(app: APIGatewayRestResolver, roles: tuple[str, ...]) -> access.Caller:
    """The signed-in caller, if one of `roles` may do this (else Forbidden: 403)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    access.require(context, roles)
    return access.caller(context)


def posted(result: EntryResult) -> Response[EntryResult]:
    """201 for a new entry, 200 for the answer to a repeated Idempotency-Key."""
    if not result.replayed:
        metrics.add_metric(name=_POSTED[result.entry.kind], unit=MetricUnit.Count, value=1)
    return Response(200 if result.replayed else 201, content_types.APPLICATION_JSON, result)
