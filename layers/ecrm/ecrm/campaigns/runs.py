"""Runs: a timer fires -> the run starts -> the planner pages the segment onto the send queue ->
the last batch is done -> the run (or the A/B sample, then the rest) is over.

Everything here is driven by messages on the plan queue (`PlanCommand`), put there by timers
(one-off time, recurring occurrence, A/B window, trigger delay) or by the planner itself when it
runs out of time and continues in a fresh invocation. Every handler is safe to run twice: a
stale or repeated command finds the campaign or the stage already past it and does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import ConfigDict

from ecrm.campaigns import ab, lifecycle
from ecrm.campaigns.events import CampaignSendStarted, CampaignSent
from ecrm.campaigns.models import (
    ONCE,
    Campaign,
    RecurringSchedule,
    RunStage,
    Segment,
    SendBatch,
    Stage,
    local_to_utc,
    run_id_for,
)
from ecrm.campaigns.ports import CampaignRepository, Repository, RunStore, SegmentIndex, SendQueue, StatsStore
from ecrm.campaigns.segments import SegmentPlan, SegmentRules, candidate_partitions, pages, plan
from ecrm.clock import Clock
from ecrm.errors import Conflict, NotFound
from ecrm.model import Model
from ecrm.timers import Timer, Timers, timer_name

PAGE_SIZE = 100  # index items per Query page; a page becomes at most one batch


class PlanCommand(Model):
    """A message on the plan queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["start", "plan", "pick_winner", "deliver"]
    campaign_id: str
    run_id: str | None = None
    # A recurring schedule's payload carries the occurrence as EventBridge Scheduler's context
    # attribute <aws.scheduler.scheduled-time>: every delivery of one occurrence names one run.
    occurrence: datetime | None = None
    stage: Stage = "all"
    batch: SendBatch | None = None  # deliver: a delayed triggered send

    def run(self) -> str:
        if self.run_id:
            return self.run_id
        return run_id_for(self.occurrence) if self.occurrence else ONCE


def start_payload(campaign: Campaign) -> dict[str, object]:
    """What the campaign's own schedule delivers when it fires."""
    if campaign.schedule.kind == "recurring":
        return {"action": "start", "campaign_id": campaign.id, "occurrence": "<aws.scheduler.scheduled-time>"}
    return {"action": "start", "campaign_id": campaign.id, "run_id": ONCE}


def schedule_name(campaign_id: str, purpose: str = "run") -> str:
    return timer_name("campaign", campaign_id, purpose)


def first_stage(campaign: Campaign) -> Stage:
    if campaign.ab is None:
        return "all"
    return "sample" if campaign.ab_winner is None else "rest"


class RunControl:
    """What the API (resume) and the sender (the last batch of a stage) do to a run: close a
    stage, plan a resumed one again. No send queue: only the planner (CampaignRuns) enqueues."""

    def __init__(self, *, campaigns: CampaignRepository, runs: RunStore, timers: Timers, clock: Clock) -> None:
        self._campaigns = campaigns
        self._runs = runs
        self._timers = timers
        self._clock = clock

    # -- the end of a stage ----------------------------------------------------------------------
    def stage_finished(self, campaign_id: str, run_id: str, stage: Stage) -> None:
        """Every batch of the stage is done. Called by the sender that completed the last batch and
        by the planner; both may, so it is idempotent."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None or campaign.current_run != run_id or campaign.status != "sending":
            return
        if stage == "sample" and campaign.ab is not None:
            at = self._clock.now() + timedelta(hours=campaign.ab.window_hours)
            payload = {"action": "pick_winner", "campaign_id": campaign_id, "run_id": run_id}
            self._timers.set(Timer(schedule_name(campaign_id, "ab"), at, payload))
            return
        now = self._clock.now()
        targeted = sum(s.targeted for s in self._stages(campaign_id, run_id))
        sent = CampaignSent(occurred_at=now, campaign_id=campaign_id, run_id=run_id, targeted=targeted)
        try:
            finished = lifecycle.finish_run(campaign, run_id, now, more_runs=_more_runs(campaign, now))
            self._campaigns.save(finished, campaign.version, events=[sent])
        except Conflict:
            return  # the other caller closed it

    def _stages(self, campaign_id: str, run_id: str) -> list[RunStage]:
        found = (self._runs.get(campaign_id, run_id, s) for s in ("all", "sample", "rest"))
        return [s for s in found if s is not None]

    # -- pause / resume --------------------------------------------------------------------------
    def replan(self, campaign: Campaign) -> None:
        """After a resume: batches were dropped while paused, so the open stage is planned again
        from the start (a new epoch). Recipients who got mail are skipped by their send records."""
        if campaign.current_run is None:
            return
        stage = first_stage(campaign)
        state = self._runs.get(campaign.id, campaign.current_run, stage)
        if state is not None:
            self._runs.restart(state, state.version)
        payload = {"action": "plan", "campaign_id": campaign.id, "run_id": campaign.current_run, "stage": stage}
        self._timers.set(Timer(schedule_name(campaign.id, "plan"), self._clock.now(), payload))


class CampaignRuns(RunControl):
    """The planner: starts runs, pages segments onto the send queue, picks A/B winners."""

    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        segments: Repository[Segment],
        index: SegmentIndex,
        runs: RunStore,
        queue: SendQueue,
        stats: StatsStore,
        timers: Timers,
        clock: Clock,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(campaigns=campaigns, runs=runs, timers=timers, clock=clock)
        self._segments = segments
        self._index = index
        self._queue = queue
        self._stats = stats
        self._page_size = page_size

    def handle(self, command: PlanCommand, deadline: datetime) -> None:
        if command.action == "start":
            self.start(command.campaign_id, command.run(), deadline)
        elif command.action == "plan":
            self.plan(command.campaign_id, command.run(), command.stage, deadline)
        elif command.action == "pick_winner":
            self.pick_winner(command.campaign_id, command.run(), deadline)
        elif command.batch is not None:
            self._queue.enqueue([command.batch])

    # -- start -----------------------------------------------------------------------------------
    def start(self, campaign_id: str, run_id: str, deadline: datetime) -> None:
        """The campaign's time came. A repeated start of the open run continues its planning; a
        start while another run is open, or while paused or cancelled, is skipped."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            return
        if not (campaign.status == "sending" and campaign.current_run == run_id):
            try:
                started = lifecycle.start_run(campaign, run_id, self._clock.now())
                event = CampaignSendStarted(occurred_at=self._clock.now(), campaign_id=campaign_id, run_id=run_id)
                self._campaigns.save(started, campaign.version, events=[event])
            except Conflict:
                return  # stale timer, or another start won the race and plans this run
            campaign = started
        self.plan(campaign_id, run_id, first_stage(campaign), deadline)

    # -- planning --------------------------------------------------------------------------------
    def plan(self, campaign_id: str, run_id: str, stage: Stage, deadline: datetime) -> bool:
        """Enqueue the stage's batches from where the last planner stopped; True once all are.
        Out of time, it hands over to a fresh invocation through the plan queue."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None or campaign.status != "sending" or campaign.current_run != run_id:
            return False
        state = self._stage(campaign, run_id, stage)
        state = self._page_through(campaign, state, deadline)
        if not state.planned:
            payload = {"action": "plan", "campaign_id": campaign_id, "run_id": run_id, "stage": stage}
            self._timers.set(Timer(schedule_name(campaign_id, "plan"), self._clock.now(), payload))
            return False
        stored = self._runs.get(campaign_id, run_id, stage)
        if stored is not None and stored.finished:
            # The senders may have finished every batch before planning was marked done.
            self.stage_finished(campaign_id, run_id, stage)
        return True

    def _stage(self, campaign: Campaign, run_id: str, stage: Stage) -> RunStage:
        existing = self._runs.get(campaign.id, run_id, stage)
        if existing is not None:
            return existing
        rules = self._rules(campaign)
        fresh = RunStage(
            campaign_id=campaign.id,
            run_id=run_id,
            stage=stage,
            rules=rules,
            estimates=self._index.estimates(candidate_partitions(rules)),
            started_at=self._clock.now(),
        )
        if self._runs.create(fresh):
            return fresh
        raced = self._runs.get(campaign.id, run_id, stage)
        if raced is None:
            raise Conflict("run stage vanished while it was being created")
        return raced

    def _rules(self, campaign: Campaign) -> SegmentRules:
        segment = self._segments.get(campaign.segment_id or "")
        if segment is None:
            raise NotFound("segment")
        return segment.rules

    def _page_through(self, campaign: Campaign, state: RunStage, deadline: datetime) -> RunStage:
        if state.planned:
            return state
        segment_plan = plan(state.rules, state.started_at, state.estimates)
        if not segment_plan.queries:
            return self._advance(state, [], None, segment_plan)
        for page in pages(segment_plan, self._index, self._page_size, (state.query_index, state.cursor)):
            ids = [m.contact_id for m in page.accepted if ab.in_stage(campaign, state.stage, m.contact_id)]
            if ids:
                self._queue.enqueue([self._batch(state, ids)])
            state = self._advance(state, ids, page.next, segment_plan)
            if not state.planned and self._clock.now() >= deadline:
                break
        return state

    @staticmethod
    def _batch(state: RunStage, ids: list[str]) -> SendBatch:
        # Same page, same number: a planner that crashed after enqueueing but before its
        # checkpoint re-sends this batch under the same id, and the sender skips who has mail.
        return SendBatch(
            campaign_id=state.campaign_id,
            run_id=state.run_id,
            stage=state.stage,
            epoch=state.epoch,
            batch=str(state.batches),
            contact_ids=ids,
        )

    def _advance(
        self, state: RunStage, ids: list[str], following: tuple[int, str | None] | None, segment_plan: SegmentPlan
    ) -> RunStage:
        query_index, cursor = following if following else (len(segment_plan.queries), None)
        advanced = state.model_copy(
            update={
                "query_index": query_index,
                "cursor": cursor,
                "batches": state.batches + (1 if ids else 0),
                "targeted": state.targeted + len(ids),
                "planned": following is None,
                "version": state.version + 1,
            }
        )
        self._runs.advance(advanced, state.version, len(ids))
        return advanced

    def pick_winner(self, campaign_id: str, run_id: str, deadline: datetime) -> None:
        """The A/B window closed: choose the winner from the sample's numbers, then send the rest."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None or campaign.ab is None or campaign.current_run != run_id or campaign.status != "sending":
            return
        if campaign.ab_winner is None:
            winner = ab.pick_winner(campaign.ab, self._stats.get(campaign_id).variants)
            decided = lifecycle.set_winner(campaign, winner, self._clock.now())
            try:
                self._campaigns.save(decided, campaign.version)
            except Conflict:
                return  # a concurrent pick saved first; it plans the rest
        self.plan(campaign_id, run_id, "rest", deadline)


def _more_runs(campaign: Campaign, now: datetime) -> bool:
    schedule = campaign.schedule
    if not isinstance(schedule, RecurringSchedule) or schedule.end is None:
        return True
    return now < local_to_utc(schedule.end, schedule.timezone)
