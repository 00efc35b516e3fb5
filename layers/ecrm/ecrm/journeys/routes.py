"""The journeys routes (journeys_api): marketers save definitions (each save a new version),
start, pause, resume and stop them, and read their stats; anyone who reads contacts sees where a
contact stands in each journey. Who may call each is declared in `ecrm.access`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ecrm.api import ERROR_CONTENT, current_caller
from ecrm.journeys.models import (
    ContactJourneys,
    Journey,
    JourneyAction,
    JourneyCreate,
    JourneyId,
    JourneyList,
    JourneyRevise,
    JourneyStats,
    JourneyView,
)
from ecrm.journeys.service import JourneyAdmin
from ecrm.types import ContactId

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
REFUSED: OpenAPIResponse = {
    "description": "a definition that cannot run: `field` is the path of the offending part",
    "content": ERROR_CONTENT,
}
CONFLICT: OpenAPIResponse = {
    "description": "changed meanwhile, or not in a status that allows this",
    "content": ERROR_CONTENT,
}
SAVED: dict[int, Any] = {
    200: {"description": "saved: the new version", "content": {"application/json": {"model": JourneyView}}},
    422: REFUSED,
    409: CONFLICT,
}
CREATED: dict[int, Any] = {
    201: {"description": "saved: a draft, version 1", "content": {"application/json": {"model": JourneyView}}},
    422: REFUSED,
}
MOVED: dict[int, Any] = {
    200: {"description": "the journey in its new status", "content": {"application/json": {"model": Journey}}},
    409: CONFLICT,
}
Version = Annotated[int | None, Query(ge=1, description="a version; default: the newest")]


def register(app: APIGatewayRestResolver, service: Callable[[], JourneyAdmin]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""

    @app.post(
        "/journeys",
        summary="Save a new journey (a draft, version 1): its definition is checked first",
        security=SECURED,
        status_code=201,
        responses=CREATED,
    )
    def create(request: JourneyCreate) -> JourneyView:
        return service().create(request, current_caller(app).actor)

    @app.get("/journeys", summary="Every journey, newest first", security=SECURED)
    def journeys() -> JourneyList:
        return service().list()

    @app.get("/journeys/<journey_id>", summary="A journey and a version's definition", security=SECURED)
    def journey(journey_id: JourneyId, version: Version = None) -> JourneyView:
        return service().get(journey_id, version)

    @app.put(
        "/journeys/<journey_id>",
        summary="A new version: new entries get it; contacts on the way finish on theirs unless `migrate`",
        security=SECURED,
        responses=SAVED,
    )
    def revise(journey_id: JourneyId, request: JourneyRevise) -> JourneyView:
        return service().revise(journey_id, request, current_caller(app).actor)

    for action, summary in (
        ("start", "Start a draft: contacts named by its entry event enter from now on"),
        ("pause", "Pause: nobody enters, and contacts whose wait ends are held where they are"),
        ("resume", "Resume: entries again, and the held contacts move on"),
        ("stop", "Stop for good: nobody enters, and contacts leave at their next step"),
    ):
        _action(app, service, action, summary)

    @app.get(
        "/journeys/<journey_id>/stats",
        summary="Per step, per branch and A/B arm: counts and conversions",
        security=SECURED,
    )
    def stats(journey_id: JourneyId, version: Version = None) -> JourneyStats:
        return service().stats(journey_id, version)

    @app.get("/contacts/<contact_id>/journeys", summary="Where a contact stands in each journey", security=SECURED)
    def contact(contact_id: ContactId) -> ContactJourneys:
        return service().contact(contact_id)


def _action(app: APIGatewayRestResolver, service: Callable[[], JourneyAdmin], action: str, summary: str) -> None:
    def act(journey_id: JourneyId, body: Annotated[JourneyAction | None, Body()] = None) -> Journey:
        return service().act(journey_id, action, body.expected_revision if body else None)

    act.__name__ = f"{action}_journey"  # the operation's id in the OpenAPI document
    app.post(f"/journeys/<journey_id>/{action}", summary=summary, security=SECURED, responses=MOVED)(act)
