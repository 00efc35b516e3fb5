"""Role-protected cases administration: SLA policies and calendars, team leads and management, metrics."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.cases.compose import Administration, admin_service
from ecrm.cases.settings import CasesAdminSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> Administration:
    return admin_service(CasesAdminSettings.from_env())


app.routes_from("ecrm.cases.admin_routes", access.CASES_ADMIN, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
