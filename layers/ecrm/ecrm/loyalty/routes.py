"""The member API's routes (loyalty_api: balance, tier and expiring points, history, redemptions,
adjustments) and its HTTP parts: the Idempotency-Key header, and how a posted entry is answered. Who
may call is checked at the edge (ecrm.api, ecrm.access)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from ecrm.api import current_caller
from ecrm.loyalty.models import AdjustmentRequest, EntryResult, LedgerPage, MemberView, RedemptionRequest
from ecrm.loyalty.service import LoyaltyApi
from ecrm.observability import metrics
from ecrm.types import ContactId

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
MEMBER = "/loyalty/members/<member_id>"


def register(app: APIGatewayRestResolver, service: Callable[[], LoyaltyApi]) -> None:
    """Add the member routes to `app`; `service()` is the cached composition root."""

    @app.get(MEMBER, summary="A member's balance, tier and points expiring soon", security=SECURED)
    def get_member(member_id: ContactId) -> MemberView:
        return service().queries().member(member_id)

    @app.get(f"{MEMBER}/history", summary="A member's ledger, newest first", security=SECURED)
    def get_history(
        member_id: ContactId,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> LedgerPage:
        return service().queries().history(member_id, limit, cursor)

    @app.post(f"{MEMBER}/redemptions", summary="Redeem points", security=SECURED, responses=ENTRY_RESPONSES)
    def redeem(member_id: ContactId, request: RedemptionRequest, key: IdempotencyKey = None) -> Response[EntryResult]:
        staff = current_caller(app)
        return posted(service().redemption().redeem(member_id, request, key, actor=staff.recorded_as))

    @app.post(
        f"{MEMBER}/adjustments",
        summary="Credit or debit points, with a reason",
        security=SECURED,
        responses=ENTRY_RESPONSES,
    )
    def adjust(member_id: ContactId, request: AdjustmentRequest, key: IdempotencyKey = None) -> Response[EntryResult]:
        staff = current_caller(app)
        return posted(service().redemption().adjust(member_id, request, key, actor=staff.recorded_as))


def posted(result: EntryResult) -> Response[EntryResult]:
    """201 for a new entry, 200 for the answer to a repeated Idempotency-Key."""
    if not result.replayed:
        metrics.add_metric(name=_POSTED[result.entry.kind], unit=MetricUnit.Count, value=1)
    return Response(200 if result.replayed else 201, content_types.APPLICATION_JSON, result)
