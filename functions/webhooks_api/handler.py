"""Role-protected webhooks API: endpoints, their signing secrets, delivery logs, redelivery and replay."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.observability import logger, metrics
from ecrm.webhooks.compose import webhooks_api
from ecrm.webhooks.endpoints import EndpointService
from ecrm.webhooks.settings import WebhooksApiSettings

app = build_resolver()


@cache
def service() -> EndpointService:
    return webhooks_api(WebhooksApiSettings.from_env())


app.routes_from("ecrm.webhooks.routes", access.WEBHOOKS_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
