"""Role-protected loyalty API: a member's balance and history, redemptions, adjustments, the programme."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.loyalty.compose import loyalty_api
from ecrm.loyalty.models import AdjustmentRequest, EntryResult, HistoryPage, MemberView, RedemptionRequest
from ecrm.loyalty.programmes import ProgrammeUpdate, StoredProgramme
from ecrm.loyalty.wiring import Loyalty
from ecrm.observability import logger, metrics
from ecrm.settings import LoyaltyApiSettings
from ecrm.types import ContactId

app = build_resolver()
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="8-100 of [A-Za-z0-9_.:-]; a repeat gets the first answer"),
]
POSTED = {"redeem": "PointsRedeemed", "adjust": "PointsAdjusted"}
ENTRY_RESPONSES: dict[int, OpenAPIResponse] = {
    201: {"description": "posted"},
    200: {"description": "a repeat of the Idempotency-Key: the first answer, `replayed: true`"},
}


@cache
def service() -> Loyalty:
    return loyalty_api(LoyaltyApiSettings.from_env())


def _caller(roles: tuple[str, ...]) -> access.Caller:
    context = app.current_event.raw_event.get("requestContext") or {}
    access.require(context, roles)
    return access.caller(context)


def _posted(result: EntryResult) -> Response[EntryResult]:
    if not result.replayed:
        metrics.add_metric(name=POSTED[result.entry.kind], unit=MetricUnit.Count, value=1)
    return Response(200 if result.replayed else 201, content_types.APPLICATION_JSON, result)


@app.get("/loyalty/members/<member_id>", summary="A member's balance, tier and points expiring soon", security=SECURED)
def get_member(member_id: ContactId) -> MemberView:
    _caller(access.LOYALTY_READ)
    return service().queries().member(member_id)


@app.get("/loyalty/members/<member_id>/history", summary="A member's ledger, newest first", security=SECURED)
def get_history(
    member_id: ContactId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> HistoryPage:
    _caller(access.LOYALTY_READ)
    return service().queries().history(member_id, limit, cursor)


@app.post(
    "/loyalty/members/<member_id>/redemptions",
    summary="Redeem points (never more than the usable balance)",
    security=SECURED,
    responses=ENTRY_RESPONSES,
)
def redeem(member_id: ContactId, request: RedemptionRequest, key: IdempotencyKey = None) -> Response[EntryResult]:
    caller = _caller(access.LOYALTY_REDEEM)
    return _posted(service().redemption().redeem(member_id, request, key, actor=caller.user_id))


@app.post(
    "/loyalty/members/<member_id>/adjustments",
    summary="Credit or debit points with a reason (audited)",
    security=SECURED,
    responses=ENTRY_RESPONSES,
)
def adjust(member_id: ContactId, request: AdjustmentRequest, key: IdempotencyKey = None) -> Response[EntryResult]:
    caller = _caller(access.LOYALTY_ADJUST)
    return _posted(service().redemption().adjust(member_id, request, key, actor=caller.user_id))


@app.get("/loyalty/programme", summary="The programme in force: earn rules, tiers, expiry", security=SECURED)
def get_programme() -> StoredProgramme:
    _caller(access.LOYALTY_READ)
    return service().programmes.current()


@app.put("/loyalty/programme", summary="Replace the programme (a new version)", security=SECURED)
def replace_programme(update: ProgrammeUpdate) -> StoredProgramme:
    caller = _caller(access.LOYALTY_PROGRAMME)
    stored = service().programmes.replace(update, caller.user_id)
    logger.info("loyalty programme replaced", version=stored.version, by=caller.user_id)
    return stored


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
