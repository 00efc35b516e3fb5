"""The campaign state machine: which status may follow which, and the actions that move it.

    draft ──schedule──▶ scheduled ──timer fires──▶ sending ──run done──▶ sent
      │  (triggered: straight to sending, "live")   ▲  │ (recurring: back to scheduled)
      │                    │   ▲                    │  │
      │                    ▼   │                    │  ▼
      └──────────────────▶ paused ◀─────────────────┘ (resume re-plans the open run)
    every status but sent and cancelled ──cancel──▶ cancelled

Pure functions over `Campaign`; the service performs what goes with them (timers, events).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ecrm.campaigns.models import Campaign, Status
from ecrm.errors import Conflict

TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    "draft": frozenset({"scheduled", "sending", "cancelled"}),
    "scheduled": frozenset({"draft", "sending", "paused", "cancelled"}),
    "sending": frozenset({"sent", "scheduled", "paused", "cancelled"}),
    "paused": frozenset({"scheduled", "sending", "cancelled"}),
    "sent": frozenset(),
    "cancelled": frozenset(),
}
EDITABLE: frozenset[Status] = frozenset({"draft"})


def move(campaign: Campaign, to: Status, now: datetime, **changes: object) -> Campaign:
    """`campaign` in status `to` (one version on), or Conflict if the state machine forbids it."""
    if to not in TRANSITIONS[campaign.status]:
        raise Conflict(f"a {campaign.status} campaign cannot become {to}")
    return campaign.model_copy(
        update={**changes, "status": to, "updated_at": now, "version": campaign.version + 1},
    )


def schedule(campaign: Campaign, now: datetime) -> Campaign:
    """Arm a draft: one-off and recurring wait for their time; a triggered one goes live."""
    target: Status = "sending" if campaign.schedule.kind == "triggered" else "scheduled"
    if campaign.status != "draft":
        raise Conflict(f"only a draft can be scheduled; this campaign is {campaign.status}")
    return move(campaign, target, now)


def unschedule(campaign: Campaign, now: datetime) -> Campaign:
    """Back to draft for editing; only before anything was sent."""
    if campaign.status != "scheduled" or campaign.runs_started:
        raise Conflict("only a scheduled campaign that has not run yet can go back to draft")
    return move(campaign, "draft", now)


def start_run(campaign: Campaign, run_id: str, now: datetime) -> Campaign:
    """A scheduled time came. Anything but `scheduled` means the timer is stale (paused, cancelled,
    or a recurring run still sending): the caller skips the occurrence."""
    if campaign.status != "scheduled" or campaign.schedule.kind == "triggered":
        raise Conflict(f"a {campaign.status} campaign does not start a run")
    return move(campaign, "sending", now, current_run=run_id, runs_started=campaign.runs_started + 1)


def finish_run(campaign: Campaign, run_id: str, now: datetime, more_runs: bool) -> Campaign:
    """Every batch of the run is done: sent, or waiting for the next occurrence."""
    if campaign.current_run != run_id or campaign.status != "sending":
        # Paused: resume re-plans the run, finds everyone done, and closes it then.
        raise Conflict(f"run {run_id} is not the sending run of this campaign")
    target: Status = "scheduled" if campaign.schedule.kind == "recurring" and more_runs else "sent"
    return move(campaign, target, now, current_run=None)


def pause(campaign: Campaign, now: datetime) -> Campaign:
    return move(campaign, "paused", now)


def resume(campaign: Campaign, now: datetime) -> Campaign:
    """A run that was open continues (it is re-planned: send records skip who has mail already);
    a triggered campaign goes live again; otherwise back to waiting for the timer."""
    if campaign.status != "paused":
        raise Conflict(f"only a paused campaign can be resumed; this one is {campaign.status}")
    live = campaign.current_run is not None or campaign.schedule.kind == "triggered"
    return move(campaign, "sending" if live else "scheduled", now)


def cancel(campaign: Campaign, now: datetime) -> Campaign:
    return move(campaign, "cancelled", now, current_run=None)


def set_winner(campaign: Campaign, variant: int, now: datetime) -> Campaign:
    if campaign.ab is None or not 0 <= variant < len(campaign.ab.subjects):
        raise Conflict("this campaign has no such A/B variant")
    if campaign.ab_winner is not None:
        return campaign
    return campaign.model_copy(update={"ab_winner": variant, "updated_at": now, "version": campaign.version + 1})
