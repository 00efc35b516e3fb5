"""Public unsubscribe: RFC 8058 one-click POST, its confirmation page, and the preferences page."""

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.api import build_resolver, read_body
from ecrm.campaigns import pages
from ecrm.campaigns import unsubscribe_routes as routes
from ecrm.campaigns.compose import preference_center
from ecrm.campaigns.preferences import PreferenceCenter
from ecrm.campaigns.settings import UnsubscribeSettings
from ecrm.observability import logger, metrics

app = build_resolver(validation=False)  # bodies arrive form-encoded: read_body + pydantic check them
PUBLIC = ["public"]


@cache
def service() -> PreferenceCenter:
    return preference_center(UnsubscribeSettings.from_env())


def _token() -> str:
    return routes.token_of(app.current_event.get_query_string_value("token"))


def _path() -> str:
    return app.current_event.request_context.path or app.current_event.path


def _json() -> bool:
    return pages.wants_json(app.current_event.raw_event)


@app.get(
    "/unsubscribe",
    summary="Page behind the unsubscribe link: asks, changes nothing",
    tags=PUBLIC,
    openapi_extensions=routes.PAGE_OPENAPI,
    responses=routes.CONFIRM_RESPONSES,
)
def confirm_page() -> Response[str]:
    return routes.confirm_page(service(), _token(), _path())


@app.post(
    "/unsubscribe",
    summary="RFC 8058 one-click unsubscribe from the token's topic",
    tags=PUBLIC,
    openapi_extensions=routes.ONE_CLICK_OPENAPI,
    responses=routes.RESPONSES,
)
def one_click() -> Response[str]:
    answer, changed = routes.one_click(service(), _token(), read_body(app.current_event.raw_event), _path(), _json())
    metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=int(changed))
    return answer


@app.get(
    "/preferences",
    summary="Per-topic preferences page (signed link)",
    tags=PUBLIC,
    openapi_extensions=routes.PAGE_OPENAPI,
    responses=routes.GET_RESPONSES,
)
def preferences_page() -> Response[str]:
    return routes.preferences_page(service(), _token(), _path(), _json())


@app.post(
    "/preferences",
    summary="Save per-topic preferences (signed link)",
    tags=PUBLIC,
    openapi_extensions=routes.PREFERENCES_OPENAPI,
    responses=routes.RESPONSES,
)
def save_preferences() -> Response[str]:
    return routes.save_preferences(service(), read_body(app.current_event.raw_event), _path(), _json())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
