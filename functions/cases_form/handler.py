"""Public support form (POST /cases) and the CSAT survey behind the solve mail's signed link."""

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import pages as links
from ecrm import webforms
from ecrm.api import build_resolver, header, read_body
from ecrm.cases import openapi, pages
from ecrm.cases.compose import PublicCases, public_service
from ecrm.cases.models import CaseRequest, CsatRequest
from ecrm.cases.settings import CasesFormSettings
from ecrm.observability import logger, metrics

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
    openapi_extensions=openapi.CASE_FORM_OPENAPI,
    responses=openapi.CASE_FORM_RESPONSES,
)
def open_case() -> Response[str]:
    body = read_body(app.current_event.raw_event)
    request = CaseRequest.model_validate(body.fields)
    receipt = service().intake.submit_form(request)
    origin = header(app.current_event.headers, "origin")
    return webforms.answer(body, receipt, 201, redirect=request.redirect, origin=origin, site=settings())


@app.get(
    "/cases/csat",
    summary="The survey page of the signed link in the solve mail",
    tags=["public"],
    openapi_extensions=openapi.SURVEY_PAGE_OPENAPI,
    responses=openapi.SURVEY_PAGE_RESPONSES,
)
def survey_page() -> Response[str]:
    action = app.current_event.request_context.path or app.current_event.path
    token = app.current_event.get_query_string_value("token") or ""
    return links.link_form(token, lambda t: pages.survey_form(t, action))


@app.post(
    "/cases/csat",
    summary="Rate the support received (1-5), once per case",
    tags=["public"],
    openapi_extensions=openapi.CSAT_OPENAPI,
    responses=openapi.CSAT_RESPONSES,
)
def rate() -> Response[str]:
    body = read_body(app.current_event.raw_event)
    request = CsatRequest.model_validate(body.fields)

    def rated() -> Response[str]:
        return links.reply(not body.from_html_form, pages.thanks(), service().survey.rate(request))

    return links.guarded(  # JSON clients get the resolver's JSON error
        not body.from_html_form,
        rated,
        invalid="It cannot be used: {reason}.",
        conflict="This case was rated already.",
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
