"""Role-protected contact 360: the complete GDPR export across every capability."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.api import build_resolver
from ecrm.contact360 import routes
from ecrm.contact360.compose import export_service
from ecrm.contact360.service import ExportService
from ecrm.contact360.settings import Contact360ApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> ExportService:
    return export_service(Contact360ApiSettings.from_env())


routes.register(app, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
