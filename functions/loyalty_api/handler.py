"""Role-protected member API: balance, tier and expiring points, history, redemptions, adjustments."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.api import build_resolver, current_caller
from ecrm.loyalty.compose import loyalty_api
from ecrm.loyalty.models import AdjustmentRequest, EntryResult, LedgerPage, MemberView, RedemptionRequest
from ecrm.loyalty.routes import ENTRY_RESPONSES, SECURED, IdempotencyKey, posted
from ecrm.loyalty.service import LoyaltyApi
from ecrm.loyalty.settings import LoyaltyApiSettings
from ecrm.observability import logger, metrics
from ecrm.types import ContactId

app = build_resolver()
MEMBER = "/loyalty/members/<member_id>"


@cache
def service() -> LoyaltyApi:
    return loyalty_api(LoyaltyApiSettings.from_env())


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
    return posted(service().redemption().redeem(member_id, request, key, actor=staff.user_id))


@app.post(
    f"{MEMBER}/adjustments",
    summary="Credit or debit points, with a reason",
    security=SECURED,
    responses=ENTRY_RESPONSES,
)
def adjust(member_id: ContactId, request: AdjustmentRequest, key: IdempotencyKey = None) -> Response[EntryResult]:
    staff = current_caller(app)
    return posted(service().redemption().adjust(member_id, request, key, actor=staff.user_id))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
