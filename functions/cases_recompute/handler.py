"""SQS recompute queue: after an SLA policy edit, new timer plans for a page of active cases per message."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import Replanning, recompute_service
from ecrm.cases.models import RecomputeRequest
from ecrm.cases.settings import CaseRecomputeSettings
from ecrm.consumer import consumer, model
from ecrm.observability import logger, metrics


@cache
def service() -> Replanning:
    return recompute_service(CaseRecomputeSettings.from_env())


@consumer(model(RecomputeRequest), name="Recompute")
def replan(request: RecomputeRequest, _: LambdaContext) -> str:
    following = service().recompute.run(request)
    if following is not None:  # the next page, as a message of its own (bounded work per message)
        service().queue.enqueue([following])
    logger.info("cases replanned", priority=request.priority, team=request.team, more=following is not None)
    return "Paged" if following is not None else "Done"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return replan.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
