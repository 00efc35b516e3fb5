"""The cases administration routes (SLA policies and calendars, team leads and management,
metrics), registered on the cases_admin resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. Who may
call each route is declared in `ecrm.access` and checked at the edge before the request is
validated (`ecrm.api.EdgeResolver`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from ecrm import access
from ecrm.api import current_caller
from ecrm.cases.compose import Administration
from ecrm.cases.metrics import MetricsReport
from ecrm.cases.models import StaffConfig
from ecrm.cases.policy import PolicyBookView
from ecrm.cases.recompute import PolicyBookUpdate
from ecrm.cases.staff import StaffConfigUpdate
from ecrm.clock import SYSTEM_CLOCK
from ecrm.observability import logger

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
DEFAULT_WINDOW = timedelta(days=30)


def register(app: APIGatewayRestResolver, service: Callable[[], Administration]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""

    def signed_in() -> access.Caller:
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
        signed_in()
        return service().queries.metrics(since or end - DEFAULT_WINDOW, end)

    @app.get("/cases/policies", summary="The SLA policy book in force, with its version", security=SECURED)
    def get_policies() -> PolicyBookView:
        signed_in()
        return service().policies.get()

    @app.put("/cases/policies", summary="Replace the SLA policy book; active cases are replanned", security=SECURED)
    def put_policies(req: PolicyBookUpdate) -> PolicyBookView:
        view = service().policies.update(req, signed_in())
        logger.info("policy book saved", version=view.version)
        return view

    @app.get("/cases/staff", summary="Team leads and management who get escalation notices", security=SECURED)
    def get_staff() -> StaffConfig:
        signed_in()
        return service().staff.get()

    @app.put("/cases/staff", summary="Set team leads and management (against the version read)", security=SECURED)
    def put_staff(req: StaffConfigUpdate) -> StaffConfig:
        signed_in()
        return service().staff.update(req)
