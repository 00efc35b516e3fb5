"""Role-protected cases administration: SLA policies and calendars, team leads and management, metrics."""

from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver, current_caller
from ecrm.cases.compose import Administration, admin_service
from ecrm.cases.metrics import MetricsReport
from ecrm.cases.models import StaffConfig
from ecrm.cases.policy import PolicyBookView
from ecrm.cases.recompute import PolicyBookUpdate
from ecrm.cases.settings import CasesAdminSettings
from ecrm.cases.staff import StaffConfigUpdate
from ecrm.clock import SYSTEM_CLOCK
from ecrm.observability import logger, metrics

app = build_resolver()
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
DEFAULT_WINDOW = timedelta(days=30)


@cache
def service() -> Administration:
    return admin_service(CasesAdminSettings.from_env())


def _signed_in() -> access.Caller:
    """The caller, remembered for SLA notices (docs/cases.md, "Staff directory")."""
    caller = current_caller(app)
    service().staff.remember(caller)
    return caller


@app.get("/cases/metrics", summary="SLA breach rate, median business times, CSAT of cases solved", security=SECURED)
def case_metrics(
    since: Annotated[datetime | None, Query(description="default: 30 days before `until`")] = None,
    until: Annotated[datetime | None, Query(description="default: now")] = None,
) -> MetricsReport:
    end = until or SYSTEM_CLOCK.now()
    _signed_in()
    return service().queries.metrics(since or end - DEFAULT_WINDOW, end)


@app.get("/cases/policies", summary="The SLA policy book in force, with its version", security=SECURED)
def get_policies() -> PolicyBookView:
    _signed_in()
    return service().policies.get()


@app.put("/cases/policies", summary="Replace the SLA policy book; active cases are replanned", security=SECURED)
def put_policies(req: PolicyBookUpdate) -> PolicyBookView:
    view = service().policies.update(req, _signed_in())
    logger.info("policy book saved", version=view.version)
    return view


@app.get("/cases/staff", summary="Team leads and management who get escalation notices", security=SECURED)
def get_staff() -> StaffConfig:
    _signed_in()
    return service().staff.get()


@app.put("/cases/staff", summary="Set team leads and management (against the version read)", security=SECURED)
def put_staff(req: StaffConfigUpdate) -> StaffConfig:
    _signed_in()
    return service().staff.update(req)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
