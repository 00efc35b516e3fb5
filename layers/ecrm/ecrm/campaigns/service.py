"""The marketer's side: templates, segments and campaigns (role marketer or admin), their previews,
the campaign lifecycle with the schedules each campaign owns, and stats."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel

from ecrm.campaigns import lifecycle
from ecrm.campaigns.events import CampaignScheduled
from ecrm.campaigns.models import (
    Campaign,
    CampaignDraft,
    CampaignStats,
    OneOffSchedule,
    RecurringSchedule,
    Segment,
    SegmentDraft,
    Template,
    TemplateDraft,
    local_to_utc,
)
from ecrm.campaigns.ports import CampaignRepository, ContactDirectory, Repository, SegmentIndex, StatsStore
from ecrm.campaigns.runs import RunControl, schedule_name, start_payload
from ecrm.campaigns.segments import SegmentRules, candidate_partitions, count, plan
from ecrm.campaigns.sending import personalization
from ecrm.campaigns.templates import CompiledTemplate
from ecrm.campaigns.unsubscribe import LinkBase, links
from ecrm.clock import Clock
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.model import Model
from ecrm.timers import ARMING_MARGIN, Recurrence, RecurringTimers, Timer, Timers

# A one-off time this far in the past is refused when scheduling (a typo, not "now").
PAST_GRACE = timedelta(minutes=5)
# Preview links go nowhere useful on purpose: a marketer clicking one must not unsubscribe anyone.
PREVIEW_TOKEN = "preview"  # noqa: S105 - a placeholder shown in previews, not a secret

E = TypeVar("E")
V = TypeVar("V", Template, Segment, Campaign)


def new_id() -> str:
    return uuid.uuid4().hex


def _check_version(entity: Template | Segment | Campaign, expected: int | None) -> None:
    if expected is not None and expected != entity.version:
        raise Conflict(f"it is at version {entity.version}, not {expected}")


def _fields(draft: BaseModel, model: type[BaseModel]) -> dict[str, object]:
    """Only the draft model's fields: a richer object passed in cannot smuggle in a status."""
    return {name: getattr(draft, name) for name in model.model_fields}


def _next_version(entity: V, now: datetime, changes: dict[str, object]) -> V:
    return entity.model_copy(update={**changes, "updated_at": now, "version": entity.version + 1})


@dataclass(frozen=True)
class Page(Generic[E]):
    items: list[E]
    next_cursor: str | None


class _Catalog(Generic[E]):
    def __init__(self, repo: Repository[E], what: str) -> None:
        self._repo = repo
        self._what = what

    def get(self, entity_id: str) -> E:
        found = self._repo.get(entity_id)
        if found is None:
            raise NotFound(self._what)
        return found

    def list(self, limit: int, cursor: str | None) -> Page[E]:
        items, next_cursor = self._repo.list(limit, cursor)
        return Page(items, next_cursor)


class Preview(Model):
    subject: str
    html: str
    text: str
    headers: dict[str, str]


class TemplateService(_Catalog[Template]):
    def __init__(
        self,
        templates: Repository[Template],
        contacts: ContactDirectory,
        link_base: LinkBase,
        clock: Clock,
        ids: Callable[[], str] = new_id,
    ) -> None:
        super().__init__(templates, "template")
        self._contacts = contacts
        self._link_base = link_base
        self._clock = clock
        self._ids = ids

    def create(self, draft: TemplateDraft) -> Template:
        now = self._clock.now()
        template = Template(**_fields(draft, TemplateDraft), id=self._ids(), created_at=now, updated_at=now)
        self._repo.create(template)
        return template

    def update(self, template_id: str, draft: TemplateDraft, expected_version: int | None) -> Template:
        """Campaigns read their template when they send, so an edit applies to mail not yet sent."""
        current = self.get(template_id)
        _check_version(current, expected_version)
        updated = _next_version(current, self._clock.now(), _fields(draft, TemplateDraft))
        self._repo.save(updated, current.version)
        return updated

    def preview(self, template_id: str, contact_id: str) -> Preview:
        """The mail as `contact_id` would get it (escaping included), with inert links."""
        template = self.get(template_id)
        contact = self._contacts.get(contact_id)
        if contact is None:
            raise NotFound("contact")
        inert = links(self._link_base, PREVIEW_TOKEN)
        rendered = CompiledTemplate.compile(template.subject, template.html, template.text).render(
            personalization(contact, None, inert)
        )
        return Preview(subject=rendered.subject, html=rendered.html, text=rendered.text, headers=inert.headers)


class SegmentPreview(Model):
    count: int
    driving_partitions: list[str]  # the index partitions the count was read from (one Query each)


class SegmentService(_Catalog[Segment]):
    def __init__(
        self, segments: Repository[Segment], index: SegmentIndex, clock: Clock, ids: Callable[[], str] = new_id
    ) -> None:
        super().__init__(segments, "segment")
        self._index = index
        self._clock = clock
        self._ids = ids

    def create(self, draft: SegmentDraft) -> Segment:
        now = self._clock.now()
        segment = Segment(name=draft.name, rules=draft.rules, id=self._ids(), created_at=now, updated_at=now)
        self._repo.create(segment)
        return segment

    def update(self, segment_id: str, draft: SegmentDraft, expected_version: int | None) -> Segment:
        """A run that has started keeps the rules it started with (RunStage.rules)."""
        current = self.get(segment_id)
        _check_version(current, expected_version)
        updated = current.model_copy(
            update={
                "name": draft.name,
                "rules": draft.rules,
                "updated_at": self._clock.now(),
                "version": current.version + 1,
            }
        )
        self._repo.save(updated, current.version)
        return updated

    def preview(self, rules: SegmentRules) -> SegmentPreview:
        """Count preview of saved or unsaved rules: runs the plan a send would run."""
        segment_plan = plan(rules, self._clock.now(), self._index.estimates(candidate_partitions(rules)))
        return SegmentPreview(
            count=count(segment_plan, self._index), driving_partitions=[q.partition for q in segment_plan.queries]
        )


class CampaignService(_Catalog[Campaign]):
    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        templates: Repository[Template],
        segments: Repository[Segment],
        runs: RunControl,
        timers: Timers,
        recurring: RecurringTimers,
        stats: StatsStore,
        clock: Clock,
        ids: Callable[[], str] = new_id,
    ) -> None:
        super().__init__(campaigns, "campaign")
        self._campaigns = campaigns
        self._templates = templates
        self._segments = segments
        self._runs = runs
        self._timers = timers
        self._recurring = recurring
        self._stats = stats
        self._clock = clock
        self._ids = ids

    # -- drafts ----------------------------------------------------------------------------------
    def create(self, draft: CampaignDraft, owner: str) -> Campaign:
        self._check_references(draft)
        now = self._clock.now()
        campaign = Campaign(
            **_fields(draft, CampaignDraft), id=self._ids(), owner=owner, created_at=now, updated_at=now
        )
        self._campaigns.create(campaign)
        return campaign

    def update(self, campaign_id: str, draft: CampaignDraft, expected_version: int | None) -> Campaign:
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        if current.status not in lifecycle.EDITABLE:
            raise Conflict(f"a {current.status} campaign cannot be edited; unschedule it first")
        self._check_references(draft)
        updated = _next_version(current, self._clock.now(), _fields(draft, CampaignDraft))
        self._campaigns.save(updated, current.version)
        return updated

    def _check_references(self, draft: CampaignDraft) -> None:
        if self._templates.get(draft.template_id) is None:
            raise InvalidInput("template_id", "no template with this id", status=422)
        if draft.segment_id is not None and self._segments.get(draft.segment_id) is None:
            raise InvalidInput("segment_id", "no segment with this id", status=422)

    # -- lifecycle -------------------------------------------------------------------------------
    def schedule(self, campaign_id: str, expected_version: int | None = None) -> Campaign:
        """Arm the campaign: its schedule is created first (a schedule left behind by a failed
        save fires into a campaign that is not scheduled, and does nothing), never to fire within
        ARMING_MARGIN; a send time sooner than that is set again once the save is done."""
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        scheduled = lifecycle.schedule(current, self._clock.now())
        self._check_references(current)
        send_at = self._arm(current)
        kind = current.schedule.kind
        event = CampaignScheduled(occurred_at=self._clock.now(), campaign_id=campaign_id, kind=kind, send_at=send_at)
        self._campaigns.save(scheduled, current.version, events=[event])
        self._fire_soon(scheduled, send_at)
        return scheduled

    def _arm(self, campaign: Campaign) -> datetime | None:
        schedule, name = campaign.schedule, schedule_name(campaign.id)
        if isinstance(schedule, OneOffSchedule):
            at = schedule.instant
            if at < self._clock.now() - PAST_GRACE:
                raise InvalidInput("schedule.at", "is in the past", status=422)
            self._arm_one_off(campaign, at)
            return at
        if isinstance(schedule, RecurringSchedule):
            zone = schedule.timezone
            start = local_to_utc(schedule.start, zone) if schedule.start else None
            end = local_to_utc(schedule.end, zone) if schedule.end else None
            self._recurring.set_recurring(Recurrence(name, schedule.cron, zone, start_payload(campaign), start, end))
        return None  # triggered: live through its TRIGGER item, no schedule

    def unschedule(self, campaign_id: str, expected_version: int | None = None) -> Campaign:
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        draft = lifecycle.unschedule(current, self._clock.now())
        self._campaigns.save(draft, current.version)
        self._disarm(current)
        return draft

    def pause(self, campaign_id: str, expected_version: int | None = None) -> Campaign:
        """Stop sending: queued batches are dropped as they arrive (resume plans them again) and
        schedules that fire meanwhile are skipped."""
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        paused = lifecycle.pause(current, self._clock.now())
        self._campaigns.save(paused, current.version)
        return paused

    def resume(self, campaign_id: str, expected_version: int | None = None) -> Campaign:
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        resumed = lifecycle.resume(current, self._clock.now())
        one_off = resumed.schedule if isinstance(resumed.schedule, OneOffSchedule) else None
        waiting = resumed.current_run is None and one_off is not None
        if waiting and one_off is not None:
            # Its timer may have fired (and been skipped) while paused: armed again before the save
            # (outside the margin, so it cannot be consumed while the campaign is still paused) ...
            self._arm_one_off(resumed, one_off.instant)
        self._campaigns.save(resumed, current.version)
        if resumed.current_run is not None:
            self._runs.replan(resumed)
        elif one_off is not None:
            # ... and moved to its real time after it (a time already past fires now).
            self._fire_soon(resumed, max(one_off.instant, self._clock.now()))
        return resumed

    def _arm_one_off(self, campaign: Campaign, at: datetime) -> None:
        """Before the save: the send timer, never due within the arming margin."""
        self._timers.set(
            Timer(schedule_name(campaign.id), max(at, self._clock.now() + ARMING_MARGIN), start_payload(campaign))
        )

    def _fire_soon(self, campaign: Campaign, send_at: datetime | None) -> None:
        """After the save: a send time inside the arming margin is set to its real time."""
        if send_at is not None and send_at < self._clock.now() + ARMING_MARGIN:
            self._timers.set(Timer(schedule_name(campaign.id), send_at, start_payload(campaign)))

    def cancel(self, campaign_id: str, expected_version: int | None = None) -> Campaign:
        """Stop for good and remove every schedule the campaign owns."""
        current = self.get(campaign_id)
        _check_version(current, expected_version)
        cancelled = lifecycle.cancel(current, self._clock.now())
        self._campaigns.save(cancelled, current.version)
        self._disarm(current)
        return cancelled

    def _disarm(self, campaign: Campaign) -> None:
        if isinstance(campaign.schedule, RecurringSchedule):
            self._recurring.cancel(schedule_name(campaign.id))
        for purpose in ("run", "ab", "plan"):
            self._timers.cancel(schedule_name(campaign.id, purpose))

    def stats(self, campaign_id: str) -> CampaignStats:
        self.get(campaign_id)
        return self._stats.get(campaign_id)
