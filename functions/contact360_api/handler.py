"""Role-protected contact 360: a contact's timeline and their complete GDPR export, across every capability."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.contact360.compose import contact360_api
from ecrm.contact360.service import Contact360Api
from ecrm.contact360.settings import Contact360ApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> Contact360Api:
    return contact360_api(Contact360ApiSettings.from_env())


app.routes_from("ecrm.contact360.routes", access.CONTACT360_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
