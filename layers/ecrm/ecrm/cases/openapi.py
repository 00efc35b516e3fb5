"""OpenAPI descriptions of the public case routes (their bodies are decoded by ecrm.webforms)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ecrm.cases.models import CaseReceipt, CaseRequest, CsatRequest, CsatResult
from ecrm.webforms import LINK_TOKEN, json_answer, page_answer, rejections, request_body

CASE_FORM_OPENAPI: dict[str, Any] = request_body(CaseRequest)
CSAT_OPENAPI: dict[str, Any] = request_body(CsatRequest)
SURVEY_PAGE_OPENAPI: dict[str, Any] = LINK_TOKEN
CASE_FORM_RESPONSES: dict[int, Any] = {
    201: json_answer(CaseReceipt, "case opened (JSON posts)"),
    303: {"description": "form posts: redirect to the thank-you page"},
    **rejections(400, 413, 415, 422),
}
SURVEY_PAGE_RESPONSES: dict[int, Any] = {
    200: page_answer("the survey page"),
    **rejections(400, 422, pages=True),
}
CSAT_RESPONSES: dict[int, Any] = {
    200: page_answer("rating recorded (JSON posts: the result; form posts: a thank-you page)", CsatResult),
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
