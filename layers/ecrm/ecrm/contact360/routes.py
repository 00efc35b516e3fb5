"""The contact 360 routes (a contact's timeline, related records, complete GDPR export), registered on the
contact360_api resolver. Who may call each route is declared in `ecrm.access` and checked at the
edge before the request is validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ecrm.api import current_caller
from ecrm.contact360.archive import zip_bytes
from ecrm.contact360.models import ExportFormat, PersonalDataExport, RelatedRecords, TimelinePage
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
