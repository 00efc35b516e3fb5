"""The loyalty API's HTTP parts, shared by its handlers: the Idempotency-Key header, and how a
posted entry is answered (who may call is checked at the edge: ecrm.api, ecrm.access)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

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


def posted(result: EntryResult) -> Response[EntryResult]:
    """201 for a new entry, 200 for the answer to a repeated Idempotency-Key."""
    if not result.replayed:
        metrics.add_metric(name=_POSTED[result.entry.kind], unit=MetricUnit.Count, value=1)
    return Response(200 if result.replayed else 201, content_types.APPLICATION_JSON, result)
