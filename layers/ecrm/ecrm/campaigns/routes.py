"""The marketers' API routes (role marketer or admin), registered on the campaigns_api resolver.

Kept out of the handler module so the handler stays a composition root and an entry point. Bodies
are pydantic models (`extra="forbid"`): an unknown or invalid field is a 422 naming it, before any
read or write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, Protocol, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field

from ecrm import access
from ecrm.campaigns.models import (
    Campaign,
    CampaignDraft,
    CampaignStats,
    EntityId,
    Segment,
    SegmentDraft,
    Template,
    TemplateDraft,
    Transition,
)
from ecrm.campaigns.segments import SegmentRules
from ecrm.campaigns.service import CampaignService, Preview, SegmentPreview, SegmentService, TemplateService
from ecrm.types import ContactId

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


class ItemPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class TemplateUpdate(TemplateDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class SegmentUpdate(SegmentDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class CampaignUpdate(CampaignDraft):
    expected_version: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class RulesPreview(BaseModel):
    """Count preview of rules not saved yet."""

    rules: SegmentRules


def register(app: APIGatewayRestResolver, services: Callable[[], Services]) -> None:
    """Add every route to `app`; `services()` is the cached composition root."""

    def allow(roles: tuple[str, ...]) -> access.Caller:
        context: dict[str, Any] = app.current_event.raw_event.get("requestContext") or {}
        access.require(context, roles)
        return access.caller(context)

    _templates(app, services, allow)
    _segments(app, services, allow)
    _campaigns(app, services, allow)


Allow = Callable[[tuple[str, ...]], access.Caller]


def _templates(app: APIGatewayRestResolver, services: Callable[[], Services], allow: Allow) -> None:
    @app.get("/templates", summary="List templates, newest first", security=SECURED)
    def list_templates(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Template]:
        allow(access.CAMPAIGN_READ)
        page = services().templates.list(limit, cursor)
        return ItemPage[Template](items=page.items, next_cursor=page.next_cursor)

    @app.post("/templates", summary="Create a template (checked when saved)", security=SECURED, status_code=201)
    def create_template(draft: Annotated[TemplateDraft, Body()]) -> Template:
        allow(access.CAMPAIGN_EDIT)
        return services().templates.create(draft)

    @app.get("/templates/<template_id>", summary="Get a template", security=SECURED)
    def get_template(template_id: EntityId) -> Template:
        allow(access.CAMPAIGN_READ)
        return services().templates.get(template_id)

    @app.put("/templates/<template_id>", summary="Replace a template", security=SECURED)
    def update_template(template_id: EntityId, update: Annotated[TemplateUpdate, Body()]) -> Template:
        allow(access.CAMPAIGN_EDIT)
        return services().templates.update(template_id, update, update.expected_version)

    @app.get(
        "/templates/<template_id>/preview",
        summary="Render the template for a contact (HTML escaped, links inert)",
        security=SECURED,
    )
    def preview_template(template_id: EntityId, contact_id: Annotated[ContactId, Query()]) -> Preview:
        allow(access.CAMPAIGN_READ)
        return services().templates.preview(template_id, contact_id)


def _segments(app: APIGatewayRestResolver, services: Callable[[], Services], allow: Allow) -> None:
    @app.get("/segments", summary="List segments, newest first", security=SECURED)
    def list_segments(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Segment]:
        allow(access.CAMPAIGN_READ)
        page = services().segments.list(limit, cursor)
        return ItemPage[Segment](items=page.items, next_cursor=page.next_cursor)

    @app.post("/segments", summary="Create a segment", security=SECURED, status_code=201)
    def create_segment(draft: Annotated[SegmentDraft, Body()]) -> Segment:
        allow(access.CAMPAIGN_EDIT)
        return services().segments.create(draft)

    @app.post("/segments/preview", summary="Count the contacts unsaved rules select", security=SECURED)
    def preview_rules(request: Annotated[RulesPreview, Body()]) -> SegmentPreview:
        allow(access.CAMPAIGN_READ)
        return services().segments.preview(request.rules)

    @app.get("/segments/<segment_id>", summary="Get a segment", security=SECURED)
    def get_segment(segment_id: EntityId) -> Segment:
        allow(access.CAMPAIGN_READ)
        return services().segments.get(segment_id)

    @app.put("/segments/<segment_id>", summary="Replace a segment's name and rules", security=SECURED)
    def update_segment(segment_id: EntityId, update: Annotated[SegmentUpdate, Body()]) -> Segment:
        allow(access.CAMPAIGN_EDIT)
        return services().segments.update(segment_id, update, update.expected_version)

    @app.get("/segments/<segment_id>/count", summary="Count the contacts a segment selects now", security=SECURED)
    def count_segment(segment_id: EntityId) -> SegmentPreview:
        allow(access.CAMPAIGN_READ)
        return services().segments.preview(services().segments.get(segment_id).rules)


def _campaigns(app: APIGatewayRestResolver, services: Callable[[], Services], allow: Allow) -> None:
    @app.get("/campaigns", summary="List campaigns, newest first", security=SECURED)
    def list_campaigns(limit: Limit = 25, cursor: Cursor = None) -> ItemPage[Campaign]:
        allow(access.CAMPAIGN_READ)
        page = services().campaigns.list(limit, cursor)
        return ItemPage[Campaign](items=page.items, next_cursor=page.next_cursor)

    @app.post("/campaigns", summary="Create a campaign (a draft)", security=SECURED, status_code=201)
    def create_campaign(draft: Annotated[CampaignDraft, Body()]) -> Campaign:
        caller = allow(access.CAMPAIGN_EDIT)
        return services().campaigns.create(draft, owner=caller.user_id)

    @app.get("/campaigns/<campaign_id>", summary="Get a campaign", security=SECURED)
    def get_campaign(campaign_id: EntityId) -> Campaign:
        allow(access.CAMPAIGN_READ)
        return services().campaigns.get(campaign_id)

    @app.put("/campaigns/<campaign_id>", summary="Replace a draft campaign", security=SECURED)
    def update_campaign(campaign_id: EntityId, update: Annotated[CampaignUpdate, Body()]) -> Campaign:
        allow(access.CAMPAIGN_EDIT)
        return services().campaigns.update(campaign_id, update, update.expected_version)

    @app.get("/campaigns/<campaign_id>/stats", summary="Targeted, sent, delivered, ... per campaign", security=SECURED)
    def campaign_stats(campaign_id: EntityId) -> CampaignStats:
        allow(access.CAMPAIGN_READ)
        return services().campaigns.stats(campaign_id)

    for action, summary in ACTIONS.items():
        _action(app, services, allow, action, summary)


ACTIONS = {
    "schedule": "Arm a draft: its schedule is created (triggered campaigns go live)",
    "unschedule": "Back to draft (before the first run); its schedules are deleted",
    "pause": "Stop sending; queued batches are dropped, schedules skipped",
    "resume": "Continue a paused campaign (an open run is planned again; nobody gets mail twice)",
    "cancel": "Stop for good; every schedule the campaign owns is deleted",
}


def _action(
    app: APIGatewayRestResolver, services: Callable[[], Services], allow: Allow, action: str, summary: str
) -> None:
    def move(campaign_id: EntityId, transition: Annotated[Transition | None, Body()] = None) -> Campaign:
        allow(access.CAMPAIGN_EDIT)
        expected = transition.expected_version if transition else None
        perform: Callable[[str, int | None], Campaign] = getattr(services().campaigns, action)
        return perform(campaign_id, expected)

    move.__name__ = f"{action}_campaign"
    app.post(f"/campaigns/<campaign_id>/{action}", summary=summary, security=SECURED)(move)
