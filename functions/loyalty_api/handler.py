"""Role-protected member API: balance, tier and expiring points, history, redemptions, adjustments."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.loyalty.compose import loyalty_api
from ecrm.loyalty.service import LoyaltyApi
from ecrm.loyalty.settings import LoyaltyApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> LoyaltyApi:
    return loyalty_api(LoyaltyApiSettings.from_env())


app.routes_from("ecrm.loyalty.routes", access.LOYALTY_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
