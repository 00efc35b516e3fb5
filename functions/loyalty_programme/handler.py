"""Role-protected loyalty programme: read it, or replace it with a new version (admins)."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.loyalty.compose import loyalty_programme
from ecrm.loyalty.programme_versions import ProgrammeService
from ecrm.loyalty.settings import LoyaltyProgrammeSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> ProgrammeService:
    return loyalty_programme(LoyaltyProgrammeSettings.from_env())


app.routes_from("ecrm.loyalty.programme_routes", access.LOYALTY_PROGRAMME_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
