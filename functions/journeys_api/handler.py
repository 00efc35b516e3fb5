"""The marketers' journeys: definitions and versions, start/pause/resume/stop, stats."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.journeys.compose import journeys_api
from ecrm.journeys.service import JourneyAdmin
from ecrm.journeys.settings import JourneysApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> JourneyAdmin:
    return journeys_api(JourneysApiSettings.from_env())


app.routes_from("ecrm.journeys.routes", access.JOURNEYS_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
