"""SQS case timer queue (EventBridge Scheduler one-time schedules, and due timers sent straight)."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.cases.compose import timer_service
from ecrm.cases.firing import SlaTimerService
from ecrm.cases.settings import CaseTimerSettings
from ecrm.cases.sla import TIMER_KIND
from ecrm.consumer import Unprocessable, consumer, json_object
from ecrm.observability import logger, metrics


@cache
def service() -> SlaTimerService:
    return timer_service(CaseTimerSettings.from_env())


def sla_timer(payload: dict[str, Any]) -> str:
    return service().on_timer(payload)


# Timer payloads name their kind; a kind nobody handles fails and ends in the DLQ, in plain view.
KINDS: dict[str, Callable[[dict[str, Any]], str]] = {TIMER_KIND: sla_timer}


@consumer(json_object, name="Timer")
def fire(payload: dict[str, Any], _: LambdaContext) -> str:
    kind = payload.get("kind")
    if kind not in KINDS:
        raise Unprocessable("kind", "no consumer for this timer kind")
    outcome = KINDS[kind](payload)
    logger.info("timer handled", kind=kind, case_id=payload.get("case_id"), outcome=outcome)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return fire.batch(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
