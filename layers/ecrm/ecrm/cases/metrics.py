"""Support metrics over a set of cases: SLA breach rate, median first-response and resolution
time in business time, and the CSAT average.

Times are the business time each milestone's clock counted when it was met, so they exclude
nights, weekends, holidays and the time a case waited in pending or on hold. A reopened case
counts its latest resolution cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import fmean, median

from ecrm.cases.models import Case, Milestone
from ecrm.model import Model


class CaseMetrics(Model):
    cases: int
    breach_rate: float | None  # share of cases with a breached milestone
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    csat_average: float | None
    csat_answers: int


class MetricsReport(CaseMetrics):
    """GET /cases/metrics: the metrics over the cases solved in [since, until)."""

    since: datetime
    until: datetime
    complete: bool  # False: more cases were solved in the window than one report reads


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=median(v.total_seconds() for v in values))


def _met_times(cases: list[Case], milestone: Milestone) -> list[timedelta]:
    clocks = (case.sla.clocks[milestone] for case in cases)
    return [clock.consumed for clock in clocks if clock.met_at is not None]


def summarize(cases: Iterable[Case]) -> CaseMetrics:
    cases = list(cases)
    breached = sum(1 for case in cases if any(c.breached for c in case.sla.clocks.values()))
    ratings = [case.csat.rating for case in cases if case.csat is not None]
    return CaseMetrics(
        cases=len(cases),
        breach_rate=breached / len(cases) if cases else None,
        median_first_response=_median(_met_times(cases, "first_response")),
        median_resolution=_median(_met_times(cases, "resolution")),
        csat_average=fmean(ratings) if ratings else None,
        csat_answers=len(ratings),
    )
