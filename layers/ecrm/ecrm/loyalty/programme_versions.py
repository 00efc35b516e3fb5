"""The programme in force: versioned, replaced by admins through the API, cached per warm container.

A fresh stack has no stored programme and runs on `DEFAULT` (version 0). Each replacement is a new
version (optimistic: the caller names the version it replaces). Rule versions are part of the
ledger's history (every earn entry records the one that priced it), so a replacement may add rule
versions but never change or drop one, and a new one takes effect no sooner than `CACHE_TTL` after
it is saved: by then every warm container has read it, so no order is priced by a stale copy.
Points already earned were promised `expiry_months`: that may grow, never shrink.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ConfigDict, Field

from ecrm.clock import Clock
from ecrm.errors import InvalidInput
from ecrm.loyalty.ports import ProgrammeRepository
from ecrm.loyalty.programme import Programme, StoredProgramme
from ecrm.model import Model

# How long a container keeps the programme it read: the staleness window of tiers, expiry and
# warning settings after a replacement (rule versions are safe, see above).
CACHE_TTL = timedelta(seconds=60)

DEFAULT = Programme.model_validate(
    {
        "rules": {
            "versions": [
                {
                    "version": "default",
                    "effective_from": "2020-01-01T00:00:00Z",
                    "rates": {
                        currency: {"points": 1, "per_minor": 100, "min_order_minor": 0}
                        for currency in ("EUR", "USD", "GBP", "CHF")
                    },
                    "category_percent": {"books": 200},
                    "sku_percent": {"GIFTCARD": 0},
                    "tier_percent": {"silver": 125, "gold": 150},
                    "max_points_per_order": 10_000,
                }
            ]
        },
        "tiers": {
            "tiers": [
                {"name": "bronze", "threshold": 0},
                {"name": "silver", "threshold": 500},
                {"name": "gold", "threshold": 2000},
            ],
            "window_months": 12,
        },
        "expiry_months": 24,
        "warn_before": "P30D",
    }
)


class ProgrammeUpdate(Model):
    """PUT /loyalty/programme: the whole programme, replacing `expected_version`."""

    model_config = ConfigDict(extra="forbid")

    expected_version: int = Field(ge=0, description="the version this replaces (409 if it is not current)")
    programme: Programme


@dataclass
class _Cached:
    value: StoredProgramme
    read_at: datetime


class ProgrammeService:
    def __init__(self, repo: ProgrammeRepository, clock: Clock, ttl: timedelta = CACHE_TTL) -> None:
        self._repo = repo
        self._clock = clock
        self._ttl = ttl
        self._cached: _Cached | None = None

    def current(self) -> StoredProgramme:
        now = self._clock.now()
        if self._cached is None or not self._cached.read_at <= now < self._cached.read_at + self._ttl:
            stored = self._repo.current() or StoredProgramme(version=0, programme=DEFAULT)
            self._cached = _Cached(stored, now)
        return self._cached.value

    def programme(self) -> Programme:
        return self.current().programme

    def replace(self, update: ProgrammeUpdate, actor: str) -> StoredProgramme:
        now = self._clock.now()
        previous = self._repo.current() or StoredProgramme(version=0, programme=DEFAULT)
        _check_rule_versions(previous.programme, update.programme, now + self._ttl)
        if update.programme.expiry_months < previous.programme.expiry_months:
            raise InvalidInput(
                "programme.expiry_months",
                f"may grow but not shrink below {previous.programme.expiry_months}: points earned were promised that",
                status=422,
            )
        stored = StoredProgramme(
            version=update.expected_version + 1, programme=update.programme, saved_at=now, saved_by=actor
        )
        self._repo.save(stored, update.expected_version)  # Conflict when another admin got there first
        self._cached = _Cached(stored, now)
        return stored


def _check_rule_versions(previous: Programme, new: Programme, earliest: datetime) -> None:
    published = {v.version: v for v in previous.rules.versions}
    proposed = {v.version: (i, v) for i, v in enumerate(new.rules.versions)}
    for name, rules in published.items():
        if name not in proposed:
            raise InvalidInput("programme.rules.versions", f"rule version {name!r} was published: keep it", status=422)
        index, kept = proposed[name]
        if kept != rules:
            raise InvalidInput(
                f"programme.rules.versions.{index}",
                f"rule version {name!r} was published and may not change: add a new version instead",
                status=422,
            )
    for name, (index, rules) in proposed.items():
        if name not in published and rules.effective_from < earliest:
            raise InvalidInput(
                f"programme.rules.versions.{index}.effective_from",
                f"a new rule version takes effect at {earliest.astimezone(UTC).isoformat()} or later",
                status=422,
            )
