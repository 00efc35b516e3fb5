"""The public cases routes: the support form (POST /cases) and the CSAT survey behind the solve
mail's signed link, registered on the cases_form resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. The
routes are public; their bodies are decoded by `read_body` and validated by pydantic, JSON or HTML
form alike.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from ecrm import pages as links
from ecrm import webforms
from ecrm.api import addressed_path, header, read_body
from ecrm.cases import openapi, pages
from ecrm.cases.compose import PublicCases
from ecrm.cases.models import CaseRequest, CsatRequest
from ecrm.cases.settings import CasesFormSettings


def register(
    app: APIGatewayRestResolver, service: Callable[[], PublicCases], settings: Callable[[], CasesFormSettings]
) -> None:
    """Add the routes to `app`; `service()` and `settings()` are the handler's cached ones."""

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
        action = addressed_path(app.current_event)
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
