"""Role-protected bulk import and export API: import jobs with presigned upload URLs, their start,
progress and report; exports and their download links."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.imports.compose import imports_api
from ecrm.imports.service import BulkApi
from ecrm.imports.settings import ImportsApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> BulkApi:
    return imports_api(ImportsApiSettings.from_env())


app.routes_from("ecrm.imports.routes", access.IMPORTS_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
