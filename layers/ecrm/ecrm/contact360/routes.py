"""The contact 360 routes (a contact's timeline, related records, complete GDPR export), registered on the
contact360_api resolver. Who may call each route is declared in `ecrm.access` and checked at the
edge before the request is validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ecrm.api import ERROR_CONTENT, current_caller
from ecrm.contact360.archive import zip_bytes
from ecrm.contact360.models import (
    Company,
    CompanyId,
    CompanyLinkRequest,
    CompanyMember,
    CompanyRequest,
    CompanyView,
    ExportFormat,
    PersonalDataExport,
    RelatedRecords,
    TimelinePage,
)
from ecrm.contact360.service import Contact360Api
from ecrm.observability import logger
from ecrm.types import ContactId

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
ZIP = "application/zip"
RESPONSES: dict[int, Any] = {
    200: {
        "description": "everything held: JSON (`format=json`), or a zip of JSON and CSV files (`format=zip`)",
        "content": {
            "application/json": {"model": PersonalDataExport},
            ZIP: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def register(app: APIGatewayRestResolver, service: Callable[[], Contact360Api]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""
    _companies(app, service)

    @app.get(
        "/contacts/<contact_id>/related",
        summary="The contact's cases, loyalty membership and campaign mail, as far as your roles may read them",
        security=SECURED,
    )
    def related(contact_id: ContactId) -> RelatedRecords:
        return service().related.related(contact_id, current_caller(app).roles)

    @app.get(
        "/contacts/<contact_id>/timeline",
        summary="Everything that happened to the contact in every capability, newest first",
        description="`kinds` filters (comma-separated: `case.opened,points.earned`); an unknown kind: 400 naming it.",
        security=SECURED,
    )
    def timeline(
        contact_id: ContactId,
        kinds: Annotated[str | None, Query(max_length=1000)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> TimelinePage:
        wanted = sorted({k.strip() for k in kinds.split(",") if k.strip()}) if kinds else []
        return service().timelines.page(contact_id, wanted, limit, cursor)

    def export_contact(contact_id: ContactId, format: Annotated[ExportFormat, Query()] = "json") -> Response[Any]:
        export = service().exports.export(contact_id)
        logger.info("contact exported", contact_id=contact_id, format=format)
        if format == "json":
            return Response(200, "application/json", export.model_dump_json())
        return Response(
            200,
            ZIP,
            zip_bytes(export),
            headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.zip"'},
        )

    # Powertools validates a declared return type and serializes it as JSON text, which a zip's
    # bytes are not: the route is registered without one (RESPONSES declares both bodies instead).
    del export_contact.__annotations__["return"]
    app.get(
        "/contacts/<contact_id>/export",
        summary="GDPR export: everything every capability holds about the contact (JSON, or a zip)",
        description=(
            "`format=zip` answers a zip of the whole document as JSON and each section as CSV and JSON; "
            f"send `Accept: {ZIP}` with it so API Gateway passes the bytes through."
        ),
        security=SECURED,
        responses=RESPONSES,
    )(export_contact)


TAKEN = {"description": "a domain another company owns, or a lost update", "content": ERROR_CONTENT}
# With `responses` given, Powertools declares no success answer of its own: each is stated here.
COMPANY = {"content": {"application/json": {"model": Company}}}
CREATED: dict[int, Any] = {201: {"description": "created", **COMPANY}, 409: TAKEN}
SAVED: dict[int, Any] = {200: {"description": "saved", **COMPANY}, 409: TAKEN}
FOUND: dict[int, Any] = {
    200: {"description": "the company owning the domain", **COMPANY},
    404: {"description": "no company owns the domain", "content": ERROR_CONTENT},
}


def _companies(app: APIGatewayRestResolver, service: Callable[[], Contact360Api]) -> None:
    @app.post(
        "/companies",
        summary="Create a company (its e-mail domains link captured contacts)",
        security=SECURED,
        status_code=201,
        responses=CREATED,
    )
    def create_company(request: CompanyRequest) -> Company:
        return service().companies.create(request)

    @app.get(
        "/companies",
        summary="Find the company owning an e-mail domain",
        security=SECURED,
        responses=FOUND,
    )
    def company_by_domain(domain: Annotated[str, Query(min_length=1, max_length=253)]) -> Company:
        return service().companies.by_domain(domain)

    @app.get(
        "/companies/<company_id>", summary="A company, its contacts, their open cases and orders", security=SECURED
    )
    def company(company_id: CompanyId) -> CompanyView:
        return service().companies.view(company_id, current_caller(app).roles)

    @app.put(
        "/companies/<company_id>",
        summary="Replace a company's name, domains, attributes",
        security=SECURED,
        responses=SAVED,
    )
    def update_company(company_id: CompanyId, request: CompanyRequest) -> Company:
        return service().companies.update(company_id, request, current_caller(app).actor)

    @app.post(
        "/companies/<company_id>/contacts",
        summary="Link a contact to the company (moves it from another; a domain never moves it back)",
        security=SECURED,
    )
    def link_contact(company_id: CompanyId, request: CompanyLinkRequest) -> CompanyMember:
        return service().companies.link(company_id, request.contact_id, current_caller(app).actor)

    @app.delete(
        "/companies/<company_id>/contacts/<contact_id>",
        summary="Unlink a contact from the company",
        security=SECURED,
        responses={204: {"description": "unlinked"}},
    )
    def unlink_contact(company_id: CompanyId, contact_id: ContactId) -> Response[str]:
        service().companies.unlink(company_id, contact_id, current_caller(app).actor)
        return Response(204, body="")
