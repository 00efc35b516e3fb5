"""The agents' cases API routes (queues, a case with its history, edits, comments, solve, reopen),
registered on the cases_api resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. Who may
call each route is declared in `ecrm.access` (CASES_API) and checked at the edge before the request
is validated (`ecrm.api.EdgeResolver`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from ecrm import access
from ecrm.api import current_caller
from ecrm.cases import openapi
from ecrm.cases.compose import Desk
from ecrm.cases.models import (
    AgentCaseRequest,
    Case,
    CaseDetail,
    CaseId,
    CasePage,
    CasePatch,
    Comment,
    CommentPage,
    CommentRequest,
    HistoryPage,
    Team,
)
from ecrm.cases.service import QueueName
from ecrm.versioning import Transition

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


def _created(model: Case | Comment) -> Response[str]:
    return Response(201, content_types.APPLICATION_JSON, model.model_dump_json())


def register(app: APIGatewayRestResolver, service: Callable[[], Desk]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""

    def signed_in() -> access.Caller:
        """The caller, remembered for SLA notices (docs/cases.md, "Staff directory")."""
        caller = current_caller(app)
        service().staff.remember(caller)
        return caller

    _cases(app, service, signed_in)
    _threads(app, service, signed_in)
    _transitions(app, service, signed_in)


def _cases(app: APIGatewayRestResolver, service: Callable[[], Desk], signed_in: Callable[[], access.Caller]) -> None:
    @app.get("/cases", summary="A work queue: mine, a team's, or breached; next deadline first", security=SECURED)
    def queue(
        queue: Annotated[QueueName, Query()] = "mine",
        team: Annotated[Team | None, Query()] = None,
        limit: Limit = 25,
        cursor: Cursor = None,
    ) -> CasePage:
        return service().queries.queue(queue, signed_in(), team, limit, cursor)

    @app.post(
        "/cases/agent",
        summary="Open a case on a requester's behalf",
        security=SECURED,
        responses=openapi.created(Case, "the case opened"),
    )
    def open_for_requester(req: AgentCaseRequest) -> Response[str]:
        return _created(service().intake.open_for_agent(req, signed_in()))

    @app.get("/cases/<case_id>", summary="A case, its SLA steps to come, history and comments", security=SECURED)
    def get_case(case_id: CaseId) -> CaseDetail:
        signed_in()
        return service().queries.detail(case_id)

    @app.patch("/cases/<case_id>", summary="Change priority, status, assignee, team or tags", security=SECURED)
    def update_case(case_id: CaseId, patch: CasePatch) -> Case:
        return service().work.update(case_id, patch, signed_in())


def _threads(app: APIGatewayRestResolver, service: Callable[[], Desk], signed_in: Callable[[], access.Caller]) -> None:
    @app.get("/cases/<case_id>/history", summary="The case's audit trail, oldest first", security=SECURED)
    def history(case_id: CaseId, limit: Limit = 50, cursor: Cursor = None) -> HistoryPage:
        signed_in()
        return service().queries.history(case_id, limit, cursor)

    @app.get("/cases/<case_id>/comments", summary="The case's comments, oldest first", security=SECURED)
    def comments(case_id: CaseId, limit: Limit = 50, cursor: Cursor = None) -> CommentPage:
        signed_in()
        return service().queries.comments(case_id, limit, cursor)

    @app.post(
        "/cases/<case_id>/comments",
        summary="Public reply (mailed) or internal note",
        security=SECURED,
        responses=openapi.created(Comment, "the comment added"),
    )
    def comment(case_id: CaseId, req: CommentRequest) -> Response[str]:
        return _created(service().work.comment(case_id, req, signed_in()))


def _transitions(
    app: APIGatewayRestResolver, service: Callable[[], Desk], signed_in: Callable[[], access.Caller]
) -> None:
    @app.post("/cases/<case_id>/solve", summary="Solve the case (a CSAT survey is mailed)", security=SECURED)
    def solve(case_id: CaseId, req: Transition) -> Case:
        return service().work.solve(case_id, signed_in(), req.expected_version)

    @app.post("/cases/<case_id>/reopen", summary="Reopen a solved case with fresh SLA clocks", security=SECURED)
    def reopen(case_id: CaseId, req: Transition) -> Case:
        return service().work.reopen(case_id, signed_in(), req.expected_version)
