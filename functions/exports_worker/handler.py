"""SQS (the export queue) -> one export: contacts read page by page, written as CSV to the bucket."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, model
from ecrm.imports.compose import export_runner
from ecrm.imports.exports import ExportRunner
from ecrm.imports.models import ExportStep
from ecrm.imports.settings import ExportWorkerSettings
from ecrm.observability import logger, metrics


@cache
def service() -> ExportRunner:
    return export_runner(ExportWorkerSettings.from_env())


@consumer(model(ExportStep), name="ExportStep")
def step(message: ExportStep, _: LambdaContext) -> str:
    return service().run(message)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return step.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
