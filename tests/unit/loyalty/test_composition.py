"""The loyalty bundles (ecrm.loyalty.service): frozen, each with exactly its function's ports, the
programme in force read again for each service they build."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from ecrm.clock import FixedClock
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.programme_versions import ProgrammeService
from ecrm.loyalty.service import LoyaltyAccrual, LoyaltyApi, LoyaltyUpkeep

from tests.unit.loyalty.fakes import MemoryLedger, MemoryTimers
from tests.unit.loyalty.world import NOW, programme

SHARED = {"ledger", "programmes", "timers", "clock"}


class Programmes:
    """A programme store an admin replaces between two calls."""

    def __init__(self) -> None:
        self.stored = StoredProgramme(version=1, programme=programme(expiry_months=12))

    def current(self) -> StoredProgramme:
        return self.stored

    def save(self, stored: StoredProgramme, expected_version: int) -> None:
        self.stored = stored


def api(store: Programmes) -> LoyaltyApi:
    clock = FixedClock(NOW)
    # ttl 0: every read goes to the store, as a warm container does once its cache has aged.
    return LoyaltyApi(MemoryLedger(), ProgrammeService(store, clock, ttl=timedelta(0)), MemoryTimers(), clock)


def test_each_function_kind_holds_exactly_its_ports():
    fields = {cls: {f.name for f in dataclasses.fields(cls)} for cls in (LoyaltyApi, LoyaltyAccrual, LoyaltyUpkeep)}
    assert fields[LoyaltyApi] == SHARED
    assert fields[LoyaltyAccrual] == SHARED | {"members"}
    assert fields[LoyaltyUpkeep] == SHARED | {"contacts", "mailer", "erasure_port"}
    assert not hasattr(LoyaltyApi, "accrual") and not hasattr(LoyaltyApi, "expiry")
    assert not hasattr(LoyaltyAccrual, "expiry") and not hasattr(LoyaltyUpkeep, "accrual")


def test_a_bundle_is_frozen():
    bundle = api(Programmes())
    with pytest.raises(dataclasses.FrozenInstanceError):
        bundle.ledger = MemoryLedger()  # type: ignore[misc]


def test_services_are_built_per_call_with_the_programme_in_force():
    store = Programmes()
    bundle = api(store)
    assert bundle.queries()._programme.expiry_months == 12
    store.save(StoredProgramme(version=2, programme=programme(expiry_months=24)), 1)
    assert bundle.queries()._programme.expiry_months == 24
    assert bundle.redemption() is not bundle.redemption()
