"""Public unsubscribe: RFC 8058 one-click POST, its confirmation page, and the preferences page."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.campaigns.compose import preference_center
from ecrm.campaigns.preferences import PreferenceCenter
from ecrm.campaigns.settings import UnsubscribeSettings
from ecrm.observability import logger, metrics

app = build_resolver(validation=False)  # bodies arrive form-encoded: read_body + pydantic check them


@cache
def service() -> PreferenceCenter:
    return preference_center(UnsubscribeSettings.from_env())


app.routes_from("ecrm.campaigns.unsubscribe_routes", access.CAMPAIGNS_UNSUBSCRIBE, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
