"""Role-protected loyalty programme: read it, or replace it with a new version (admins)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.api import build_resolver, current_caller
from ecrm.loyalty.compose import loyalty_programme
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.programme_versions import ProgrammeService, ProgrammeUpdate
from ecrm.loyalty.routes import SECURED
from ecrm.loyalty.settings import LoyaltyProgrammeSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> ProgrammeService:
    return loyalty_programme(LoyaltyProgrammeSettings.from_env())


@app.get("/loyalty/programme", summary="The programme in force: earn rules, tiers, expiry", security=SECURED)
def get_programme() -> StoredProgramme:
    return service().current()


@app.put("/loyalty/programme", summary="Replace the programme (a new version)", security=SECURED)
def replace_programme(update: ProgrammeUpdate) -> StoredProgramme:
    admin = current_caller(app)
    stored = service().replace(update, admin.user_id)
    logger.info("loyalty programme replaced", version=stored.version, by=admin.user_id)
    return stored


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
