"""SQS (the import queue) -> one step of an import job: validate the whole file, or apply its rows
from the job's checkpoint through the contacts' capture rules."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.consumer import consumer, model
from ecrm.imports.compose import import_runner
from ecrm.imports.models import ImportStep
from ecrm.imports.service import ImportRunner
from ecrm.imports.settings import ImportWorkerSettings
from ecrm.observability import logger, metrics


@cache
def service() -> ImportRunner:
    return import_runner(ImportWorkerSettings.from_env())


@consumer(model(ImportStep), name="ImportStep")
def step(message: ImportStep, _: LambdaContext) -> str:
    return service().run(message)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return step.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
