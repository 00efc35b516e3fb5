"""The marketers' API routes (role marketer or admin), registered on the campaigns_api resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. Who may
call each route is declared in `ecrm.access` (CAMPAIGNS_API) and checked at the edge before the
request is validated (`ecrm.api.EdgeResolver`). Bodies are pydantic models (`extra="forbid"`): an
unknown or invalid field is a 422 naming it, before any read or write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, Protocol, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import Field

from ecrm.api import current_caller
from ecrm.campaigns.models import (
    Campaign,
    CampaignDraft,
    CampaignStats,
    EntityId,
    Segment,
    SegmentDraft,
    Template,
    TemplateDraft,
)
from ecrm.campaigns.segments import SegmentRules
from ecrm.campaigns.service import CampaignService, Preview, SegmentPreview, SegmentService, TemplateService
from ecrm.model import Model
from ecrm.types import ContactId
from ecrm.versioning import Transition

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]
T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


class Services(Protocol):
    @property
    def templates(self) -> TemplateService: ...
    @property
    def segments(self) -> SegmentService: ...
    @property
    def campaigns(self) -> CampaignService: ...


class ItemPage(Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class TemplateUpdate(TemplateDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class SegmentUpdate(SegmentDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class CampaignUpdate(CampaignDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class RulesPreview(Model):
    """Count preview of rules not saved yet."""

    rules: SegmentRules


def register(app: APIGatewayRestResolver, services: Callable[[], Services]) -> None:
    """Add every route to `app`; `services()` is the cached composition root."""

    def owner() -> str:
        return current_caller(app).user_id

    _templates(app, services)
    _segments(app, services)
    _campaigns(app, services, owner)


def _route(app: APIGatewayRestResolver, method: str, path: str, **options: Any) -> Any:
    return app.route(path, method, security=SECURED, **options)


def _templates(app: APIGatewayRestResolver, services: Callable[[], Services]) -> None:
    @_route(app, "GET", "/templates", summary="List templates, newest first")
    def list_templates(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Template]:
        page = services().templates.list(limit, cursor)
        return ItemPage[Template](items=page.items, next_cursor=page.next_cursor)

    @_route(
        app,
        "POST",
        "/templates",
        summary="Create a template (checked when saved)",
        status_code=201,
    )
    def create_template(draft: Annotated[TemplateDraft, Body()]) -> Template:
        return services().templates.create(draft)

    @_route(app, "GET", "/templates/<template_id>", summary="Get a template")
    def get_template(template_id: EntityId) -> Template:
        return services().templates.get(template_id)

    @_route(app, "PUT", "/templates/<template_id>", summary="Replace a template")
    def update_template(template_id: EntityId, update: Annotated[TemplateUpdate, Body()]) -> Template:
        return services().templates.update(template_id, update, update.expected_version)

    @_route(
        app,
        "GET",
        "/templates/<template_id>/preview",
        summary="Render the template for a contact (HTML escaped, links inert)",
    )
    def preview_template(template_id: EntityId, contact_id: Annotated[ContactId, Query()]) -> Preview:
        return services().templates.preview(template_id, contact_id)


def _segments(app: APIGatewayRestResolver, services: Callable[[], Services]) -> None:
    @_route(app, "GET", "/segments", summary="List segments, newest first")
    def list_segments(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Segment]:
        page = services().segments.list(limit, cursor)
        return ItemPage[Segment](items=page.items, next_cursor=page.next_cursor)

    @_route(app, "POST", "/segments", summary="Create a segment", status_code=201)
    def create_segment(draft: Annotated[SegmentDraft, Body()]) -> Segment:
        return services().segments.create(draft)

    @_route(app, "POST", "/segments/preview", summary="Count the contacts unsaved rules select")
    def preview_rules(request: Annotated[RulesPreview, Body()]) -> SegmentPreview:
        return services().segments.preview(request.rules)

    @_route(app, "GET", "/segments/<segment_id>", summary="Get a segment")
    def get_segment(segment_id: EntityId) -> Segment:
        return services().segments.get(segment_id)

    @_route(app, "PUT", "/segments/<segment_id>", summary="Replace a segment's name and rules")
    def update_segment(segment_id: EntityId, update: Annotated[SegmentUpdate, Body()]) -> Segment:
        return services().segments.update(segment_id, update, update.expected_version)

    @_route(
        app,
        "GET",
        "/segments/<segment_id>/count",
        summary="Count the contacts a segment selects now",
    )
    def count_segment(segment_id: EntityId) -> SegmentPreview:
        return services().segments.preview(services().segments.get(segment_id).rules)


def _campaigns(app: APIGatewayRestResolver, services: Callable[[], Services], owner: Callable[[], str]) -> None:
    @_route(app, "GET", "/campaigns", summary="List campaigns, newest first")
    def list_campaigns(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Campaign]:
        page = services().campaigns.list(limit, cursor)
        return ItemPage[Campaign](items=page.items, next_cursor=page.next_cursor)

    @_route(app, "POST", "/campaigns", summary="Create a campaign (a draft)", status_code=201)
    def create_campaign(draft: Annotated[CampaignDraft, Body()]) -> Campaign:
        return services().campaigns.create(draft, owner=owner())

    @_route(app, "GET", "/campaigns/<campaign_id>", summary="Get a campaign")
    def get_campaign(campaign_id: EntityId) -> Campaign:
        return services().campaigns.get(campaign_id)

    @_route(app, "PUT", "/campaigns/<campaign_id>", summary="Replace a draft campaign")
    def update_campaign(campaign_id: EntityId, update: Annotated[CampaignUpdate, Body()]) -> Campaign:
        return services().campaigns.update(campaign_id, update, update.expected_version)

    @_route(
        app,
        "GET",
        "/campaigns/<campaign_id>/stats",
        summary="Targeted, sent, delivered, ... per campaign",
    )
    def campaign_stats(campaign_id: EntityId) -> CampaignStats:
        return services().campaigns.stats(campaign_id)

    for action, summary in ACTIONS.items():
        _action(app, services, action, summary)


ACTIONS = {
    "schedule": "Arm a draft: its schedule is created (triggered campaigns go live)",
    "unschedule": "Back to draft (before the first run); its schedules are deleted",
    "pause": "Stop sending; queued batches are dropped, schedules skipped",
    "resume": "Continue a paused campaign (an open run is planned again; nobody gets mail twice)",
    "cancel": "Stop for good; every schedule the campaign owns is deleted",
}


def _action(app: APIGatewayRestResolver, services: Callable[[], Services], action: str, summary: str) -> None:
    def move(campaign_id: EntityId, transition: Annotated[Transition | None, Body()] = None) -> Campaign:
        expected = transition.expected_version if transition else None
        perform: Callable[[str, int | None], Campaign] = getattr(services().campaigns, action)
        return perform(campaign_id, expected)

    move.__name__ = f"{action}_campaign"
    _route(app, "POST", f"/campaigns/<campaign_id>/{action}", summary=summary)(move)
