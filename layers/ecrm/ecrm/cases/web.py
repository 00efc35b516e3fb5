"""The case API's HTTP parts: OpenAPI descriptions of the case routes (the public ones' bodies are
decoded by ecrm.webforms), and the staff directory's middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from ecrm.api import current_caller
from ecrm.cases.models import CaseRequest, CsatRequest

if TYPE_CHECKING:  # annotations only: the public form's function (no validation) never loads these
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

    from ecrm.cases.staff import StaffAdmin
from ecrm.webforms import rejections, request_body

CASE_FORM_OPENAPI: dict[str, Any] = request_body(CaseRequest)
CSAT_OPENAPI: dict[str, Any] = request_body(CsatRequest)
CASE_FORM_RESPONSES: dict[int, Any] = {
    201: {"description": "case opened (JSON posts); body holds `id`"},
    303: {"description": "form posts: redirect to the thank-you page"},
    **rejections(400, 413, 415, 422),
}
CSAT_RESPONSES: dict[int, Any] = {
    200: {"description": "rating recorded (JSON: `case_id`, `rating`; form posts: a thank-you page)"},
    **rejections(400, 413, 415, 422, pages=True),
    409: {"description": "this case has been rated already", "content": rejections(409, pages=True)[409]["content"]},
}

# The role-protected routes: what besides 200 and 422 they may answer.
API_ERRORS: dict[int, Any] = {
    400: {"description": "a query value the API cannot use (cursor, team, time window); `errors[].field` names it"},
    403: {"description": "your role may not do this"},
    404: {"description": "no such case"},
    409: {"description": "the case moved on since `expected_version`, or its status does not allow the change"},
}


def created(model: type[BaseModel], what: str) -> dict[int, Any]:
    return {201: {"description": what, "content": {"application/json": {"model": model}}}, **API_ERRORS}


def remember_callers(app: APIGatewayRestResolver, staff: Callable[[], StaffAdmin]) -> None:
    """Keep every admitted caller's address for SLA notices (docs/cases.md, "Staff directory"):
    after the edge and validation, before the route runs."""

    def remember(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        staff().remember(current_caller(app))
        return next_middleware(app)

    app.use(middlewares=[remember])
