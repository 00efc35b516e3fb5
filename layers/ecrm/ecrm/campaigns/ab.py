"""A/B subject tests: who is in the sample, which variant they get, and which variant wins.

Assignment is a pure function of (campaign, contact): the planner, the sender, a redelivered batch
and a re-planned run all agree on it without storing anything. The sample and the variant use two
independent hashes, so variant shares do not depend on the sample fraction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ecrm.campaigns.models import AbTest, Campaign, Counts, Stage


def _unit(salt: str, campaign_id: str, contact_id: str) -> float:
    """A uniform number in [0, 1) from the hash: stable across processes and Python versions."""
    digest = hashlib.sha256(f"{salt}:{campaign_id}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_sample(ab: AbTest, campaign_id: str, contact_id: str) -> bool:
    return _unit("sample", campaign_id, contact_id) < ab.sample_fraction


def variant_of(ab: AbTest, campaign_id: str, contact_id: str) -> int:
    return min(int(_unit("variant", campaign_id, contact_id) * len(ab.subjects)), len(ab.subjects) - 1)


def in_stage(campaign: Campaign, stage: Stage, contact_id: str) -> bool:
    """Whether the contact belongs to this stage of the run: the sample, the rest, or (no test) all."""
    if campaign.ab is None or stage == "all":
        return True
    sampled = in_sample(campaign.ab, campaign.id, contact_id)
    return sampled if stage == "sample" else not sampled


def variant_for(campaign: Campaign, stage: Stage, contact_id: str) -> int | None:
    """The subject variant a recipient gets: its own in the sample, the winner after it; None when
    the campaign runs no test (the template's subject)."""
    if campaign.ab is None:
        return None
    if stage == "sample":
        return variant_of(campaign.ab, campaign.id, contact_id)
    if campaign.ab_winner is None:
        raise ValueError("the rest of an A/B campaign is sent only after a winner is chosen")
    return campaign.ab_winner


def pick_winner(ab: AbTest, counts: Mapping[int, Counts]) -> int:
    """The best rate on the test's metric; ties go to more hits, then to the lower variant number,
    so the same numbers always pick the same winner (and a test with no data picks variant 0)."""

    def score(variant: int) -> tuple[float, int, int]:
        c = counts.get(variant, Counts())
        hits = c.opened if ab.metric == "open" else c.clicked
        return c.rate(ab.metric), hits, -variant

    return max(range(len(ab.subjects)), key=score)
