"""Public support form (POST /cases) and the CSAT survey behind the solve mail's signed link."""

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import webforms
from ecrm.api import build_resolver, header, read_body
from ecrm.cases import pages, web
from ecrm.cases.compose import PublicCases, public_service
from ecrm.cases.models import CaseRequest, CsatRequest
from ecrm.errors import Conflict, InvalidToken
from ecrm.observability import logger, metrics
from ecrm.settings import CasesFormSettings

app = build_resolver(validation=False)  # bodies are decoded and validated by read_body + pydantic


@cache
def settings() -> CasesFormSettings:
    return CasesFormSettings.from_env()


@cache
def service() -> PublicCases:
    return public_service(settings())


@app.post(
    "/cases",
    summary="Open a support case from the public form",
    tags=["public"],
    openapi_extensions=web.CASE_FORM_OPENAPI,
    responses=web.CASE_FORM_RESPONSES,
)
def open_case() -> Response[str]:
    body = read_body(app.current_event.raw_event)
    request = CaseRequest.model_validate(body.fields)
    receipt = service().intake.submit_form(request)
    origin = header(app.current_event.headers, "origin")
    return webforms.answer(body, receipt, 201, redirect=request.redirect, origin=origin, site=settings())


@app.get("/cases/csat", summary="The survey page of the signed link in the solve mail", tags=["public"])
def survey_page() -> Response[str]:
    token = app.current_event.get_query_string_value("token") or ""
    if len(token) < 10:
        return Response(400, content_types.TEXT_HTML, pages.problem("The link is incomplete: its token is missing."))
    action = app.current_event.request_context.path or app.current_event.path
    return Response(200, content_types.TEXT_HTML, pages.survey_form(token, action))


@app.post(
    "/cases/csat",
    summary="Rate the support received (1-5), once per case",
    tags=["public"],
    openapi_extensions=web.CSAT_OPENAPI,
    responses=web.CSAT_RESPONSES,
)
def rate() -> Response[str]:
    body = read_body(app.current_event.raw_event)
    request = CsatRequest.model_validate(body.fields)
    try:
        result = service().survey.rate(request)
    except (InvalidToken, Conflict) as exc:
        if not body.from_html_form:
            raise  # JSON clients get the JSON error from the resolver's exception handler
        reason = (
            f"It cannot be used: {exc.reason}." if isinstance(exc, InvalidToken) else "This case was rated already."
        )
        return Response(400 if isinstance(exc, InvalidToken) else 409, content_types.TEXT_HTML, pages.problem(reason))
    if body.from_html_form:
        return Response(200, content_types.TEXT_HTML, pages.thanks())
    return Response(200, content_types.APPLICATION_JSON, result.model_dump_json())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
