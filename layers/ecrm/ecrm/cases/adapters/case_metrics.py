"""Case events as CloudWatch metrics (Powertools EMF): each event of a committed write is counted,
and the business times and ratings it carries are recorded, for the dashboard and the SlaBreached
alarm. The store tells of a write's events only once the write succeeded."""

from __future__ import annotations

from collections.abc import Sequence

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ecrm.cases.events import CaseCommented, CaseRated, CaseSolved
from ecrm.events import DomainEvent

COUNTED = {
    "CaseCreated.v1": "CaseCreated",
    "CaseSolved.v1": "CaseSolved",
    "SlaWarning.v1": "SlaWarning",
    "SlaBreached.v1": "SlaBreached",
    "CaseEscalated.v1": "CaseEscalated",
    "CaseRated.v1": "CaseRated",
}


class CaseMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def record(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            self._record(event)

    def _record(self, event: DomainEvent) -> None:
        if name := COUNTED.get(event.detail_type):
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if isinstance(event, CaseCommented) and event.first_response_seconds is not None:
            self._metrics.add_metric(
                name="FirstResponseBusinessSeconds", unit=MetricUnit.Seconds, value=event.first_response_seconds
            )
        if isinstance(event, CaseSolved) and event.resolution_seconds is not None:
            self._metrics.add_metric(
                name="ResolutionBusinessSeconds", unit=MetricUnit.Seconds, value=event.resolution_seconds
            )
        if isinstance(event, CaseRated):
            self._metrics.add_metric(name="CsatRating", unit=MetricUnit.NoUnit, value=event.rating)
