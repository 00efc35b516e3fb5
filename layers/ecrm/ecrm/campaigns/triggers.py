"""Triggered campaigns: an event on the bus -> the contact it names gets the campaign's mail.

One EventBridge rule (the detail-types in models.TRIGGERS) feeds a queue; for each event this
finds the live campaigns bound to its type, checks the campaign's `match` and segment, and queues
one send, now or after the campaign's delay (a one-time timer). The run id makes it once: `once`
per contact by default (a second ConsentConfirmed of the same contact finds the send record), the
event id when the campaign sends on every event (a redelivered event still finds its record).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ecrm.campaigns.models import ONCE, TRIGGERS, Campaign, Segment, SendBatch, TriggeredSchedule
from ecrm.campaigns.ports import CampaignRepository, ContactDirectory, MembershipStore, Repository, SendQueue
from ecrm.campaigns.segments import member_from_contact, plan
from ecrm.clock import Clock
from ecrm.timers import Timer, Timers, timer_name

_CONTACT_ID = re.compile(r"^[0-9a-f]{32}$")
_TAG_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def _matches(match: Mapping[str, str], detail: Mapping[str, Any]) -> bool:
    return all(str(detail.get(k)) == v for k, v in match.items())


def run_for_event(trigger: TriggeredSchedule, event_id: str) -> str:
    return ONCE if trigger.once_per_contact else "ev-" + _TAG_SAFE.sub("-", event_id)[:100]


class TriggerService:
    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        segments: Repository[Segment],
        contacts: ContactDirectory,
        memberships: MembershipStore,
        queue: SendQueue,
        timers: Timers,
        clock: Clock,
    ) -> None:
        self._campaigns = campaigns
        self._segments = segments
        self._contacts = contacts
        self._memberships = memberships
        self._queue = queue
        self._timers = timers
        self._clock = clock

    def on_event(self, detail_type: str, detail: Mapping[str, Any], event_id: str, occurred_at: datetime) -> list[str]:
        """Queue the sends this event triggers; returns the campaign ids it addressed."""
        contact_id = str(detail.get(TRIGGERS.get(detail_type, ""), ""))
        if not _CONTACT_ID.match(contact_id):
            return []
        addressed = []
        for campaign in self._campaigns.live_triggered(detail_type):
            trigger = campaign.schedule
            if not isinstance(trigger, TriggeredSchedule) or not _matches(trigger.match, detail):
                continue
            if not self._in_segment(campaign, contact_id):
                continue
            self._queue_send(campaign, trigger, contact_id, event_id, occurred_at)
            addressed.append(campaign.id)
        return addressed

    def _in_segment(self, campaign: Campaign, contact_id: str) -> bool:
        """Judged on the contact as it is now, not on the stored snapshot: the event that
        triggers the mail (ConsentConfirmed) may not have reached the index projection yet."""
        if campaign.segment_id is None:
            return True  # suppression and consent are still checked by the sender
        segment = self._segments.get(campaign.segment_id)
        contact = self._contacts.get(contact_id)
        if segment is None or contact is None:
            return False
        snapshot = self._memberships.load(contact_id)
        member = member_from_contact(
            contact,
            tier=snapshot.member.tier if snapshot else None,
            activity=snapshot.member.last_activity if snapshot else None,
            suppressed=snapshot.member.suppressed if snapshot else False,
        )
        return plan(segment.rules, self._clock.now()).matches(member)

    def _queue_send(
        self, campaign: Campaign, trigger: TriggeredSchedule, contact_id: str, event_id: str, occurred_at: datetime
    ) -> None:
        run_id = run_for_event(trigger, event_id)
        batch = SendBatch(
            campaign_id=campaign.id, run_id=run_id, batch=f"event-{event_id}"[:100], contact_ids=[contact_id]
        )
        if not trigger.delay_minutes:
            self._queue.enqueue([batch])
            return
        payload = {"action": "deliver", "campaign_id": campaign.id, "batch": batch.model_dump(mode="json")}
        name = timer_name("campaign", campaign.id, contact_id, run_id)
        self._timers.set(Timer(name, occurred_at + trigger.delay, payload))
