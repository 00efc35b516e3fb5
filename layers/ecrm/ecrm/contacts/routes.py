"""The public contact routes: web-form capture (POST /contacts) and double opt-in confirmation
(/contacts/confirm), registered on the contacts_capture resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. The
routes are public (`ecrm.access.CONTACTS_CAPTURE`); their bodies are decoded by `read_body` and
validated by pydantic, JSON or HTML form alike.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from ecrm import pages as links
from ecrm import webforms
from ecrm.api import addressed_path, header, read_body
from ecrm.contacts import openapi, pages
from ecrm.contacts.models import CaptureRequest, CaptureResult, ConfirmRequest
from ecrm.contacts.service import CaptureService, new_id
from ecrm.contacts.settings import CaptureSettings
from ecrm.observability import metrics


def register(
    app: APIGatewayRestResolver, service: Callable[[], CaptureService], settings: Callable[[], CaptureSettings]
) -> None:
    """Add the routes to `app`; `service()` and `settings()` are the handler's cached ones."""

    @app.post(
        "/contacts",
        summary="Capture a contact from a web form",
        tags=["public"],
        openapi_extensions=openapi.CAPTURE_OPENAPI,
        responses=openapi.CAPTURE_RESPONSES,
    )
    def capture() -> Response[str]:
        body = read_body(app.current_event.raw_event)
        request = CaptureRequest.model_validate(body.fields)
        if request.is_spam:  # answer like success so bots learn nothing; store nothing
            metrics.add_metric(name="HoneypotTriggered", unit=MetricUnit.Count, value=1)
            result = CaptureResult(id=new_id(), created=True)
        else:
            result = service().capture(request, app.current_event.request_context.identity.source_ip)
            metrics.add_metric(
                name="ContactCreated" if result.created else "ContactMerged", unit=MetricUnit.Count, value=1
            )
        origin = header(app.current_event.headers, "origin")
        status = 201 if result.created else 200
        return webforms.answer(body, result, status, redirect=request.redirect, origin=origin, site=settings())

    @app.get(
        "/contacts/confirm",
        summary="Page asking the person to confirm consent",
        tags=["public"],
        openapi_extensions=openapi.CONFIRM_PAGE_OPENAPI,
        responses=openapi.CONFIRM_PAGE_RESPONSES,
    )
    def confirm_page() -> Response[str]:
        action = addressed_path(app.current_event)
        token = app.current_event.get_query_string_value("token") or ""
        return links.link_form(token, lambda t: pages.confirm_form(t, action))

    @app.post(
        "/contacts/confirm",
        summary="Confirm marketing consent with the signed link's token",
        tags=["public"],
        openapi_extensions=openapi.CONFIRM_OPENAPI,
        responses=openapi.CONFIRM_RESPONSES,
    )
    def confirm() -> Response[str]:
        body = read_body(app.current_event.raw_event)
        token = ConfirmRequest.model_validate(body.fields).token

        def confirmed() -> Response[str]:
            result = service().confirm(token, app.current_event.request_context.identity.source_ip)
            metrics.add_metric(name="ConsentConfirmed", unit=MetricUnit.Count, value=1)
            return links.reply(not body.from_html_form, pages.confirmed(), result)

        return links.guarded(not body.from_html_form, confirmed)  # JSON clients get the resolver's JSON error
