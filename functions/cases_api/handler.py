"""Role-protected cases API for agents: queues, a case with its history, edits, comments, solve, reopen."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.cases.compose import Desk, desk_service
from ecrm.cases.settings import CasesApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> Desk:
    return desk_service(CasesApiSettings.from_env())


app.routes_from("ecrm.cases.routes", access.CASES_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
