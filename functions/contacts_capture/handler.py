"""Public web-form capture (POST /contacts) and double opt-in confirmation (/contacts/confirm)."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.contacts.compose import capture_service
from ecrm.contacts.service import CaptureService
from ecrm.contacts.settings import CaptureSettings
from ecrm.observability import logger, metrics

app = build_resolver(validation=False)  # bodies are decoded and validated by read_body + pydantic


@cache
def settings() -> CaptureSettings:
    return CaptureSettings.from_env()


@cache
def service() -> CaptureService:
    return capture_service(settings())


app.routes_from("ecrm.contacts.routes", access.CONTACTS_CAPTURE, service, settings)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
