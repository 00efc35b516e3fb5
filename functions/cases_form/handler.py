"""Public support form (POST /cases) and the CSAT survey behind the solve mail's signed link."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.cases.compose import PublicCases, public_service
from ecrm.cases.settings import CasesFormSettings
from ecrm.observability import logger, metrics

app = build_resolver(validation=False)  # bodies are decoded and validated by read_body + pydantic


@cache
def settings() -> CasesFormSettings:
    return CasesFormSettings.from_env()


@cache
def service() -> PublicCases:
    return public_service(settings())


app.routes_from("ecrm.cases.form_routes", access.CASES_FORM, service, settings)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
