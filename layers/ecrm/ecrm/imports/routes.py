"""The imports routes (a job and its presigned upload URL, its start, its progress and report),
registered on the imports_api resolver. Who may call each is declared in `ecrm.access` and checked
at the edge before the request is validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body

from ecrm.api import ERROR_CONTENT, current_caller
from ecrm.imports.models import (
    ExportId,
    ExportRequest,
    ExportView,
    ImportCreated,
    ImportId,
    ImportRequest,
    ImportView,
    StartRequest,
)
from ecrm.imports.service import BulkApi

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
CREATED: dict[int, Any] = {
    201: {
        "description": "the job, and where to PUT the file (presigned, signed for its size)",
        "content": {"application/json": {"model": ImportCreated}},
    },
}
STARTED: dict[int, Any] = {
    202: {
        "description": "validation queued (or the job as it stands, if started before)",
        "content": {"application/json": {"model": ImportView}},
    },
    409: {"description": "the file has not been uploaded yet", "content": ERROR_CONTENT},
}


QUEUED: dict[int, Any] = {
    202: {
        "description": "queued; `download_url` once `state` is done",
        "content": {"application/json": {"model": ExportView}},
    },
}


def register(app: APIGatewayRestResolver, service: Callable[[], BulkApi]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""
    _imports(app, service)
    _exports(app, service)


def _imports(app: APIGatewayRestResolver, service: Callable[[], BulkApi]) -> None:

    @app.post(
        "/imports",
        summary="A new import of contacts from CSV: answers a presigned URL to upload the file to",
        security=SECURED,
        status_code=201,
        responses=CREATED,
    )
    def create(request: ImportRequest) -> ImportCreated:
        return service().imports.create(request, current_caller(app).actor)

    @app.get("/imports/<import_id>", summary="An import's state, counts and report of rejected rows", security=SECURED)
    def get(import_id: ImportId) -> ImportView:
        return service().imports.get(import_id)

    @app.post(
        "/imports/<import_id>/start",
        summary="Start the import of the uploaded file: the whole file is validated, then applied",
        security=SECURED,
        status_code=202,
        responses=STARTED,
    )
    def start(
        import_id: ImportId, _request: Annotated[StartRequest | None, Body(alias="request")] = None
    ) -> ImportView:
        return service().imports.start(import_id)


def _exports(app: APIGatewayRestResolver, service: Callable[[], BulkApi]) -> None:
    @app.post(
        "/exports",
        summary="Export contacts to CSV (every contact, or those with a tag); erased contacts never appear",
        security=SECURED,
        status_code=202,
        responses=QUEUED,
    )
    def export(request: ExportRequest) -> ExportView:
        return service().exports.create(request, current_caller(app).actor)

    @app.get("/exports/<export_id>", summary="An export's state and, once done, its download link", security=SECURED)
    def exported(export_id: ExportId) -> ExportView:
        return service().exports.get(export_id)
