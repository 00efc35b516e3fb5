"""A whole cases domain over in-memory ports, with a clock the tests move."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.access import Caller
from ecrm.cases.calendar import BusinessCalendar
from ecrm.cases.events import CaseEvent
from ecrm.cases.firing import SlaTimerService
from ecrm.cases.mailer import CaseMailer
from ecrm.cases.models import AgentCaseRequest, Case
from ecrm.cases.policy import PolicyBook, SlaPolicy, Targets
from ecrm.cases.service import CaseIntake, CaseQueries, CaseWork, CsatSurvey
from ecrm.cases.writer import CaseWriter
from ecrm.clock import FixedClock
from ecrm.signing import Signer

from tests.unit.cases.fakes import FakeTimers, MemoryCases, MemoryRequesters, Staff
from tests.unit.fakes import Outbox, RecordingPublisher

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday, opening time
AGENT = Caller(user_id="agent-1", email="ann@corp.test", roles=frozenset({"agent"}))
OTHER_AGENT = Caller(user_id="agent-2", email="bob@corp.test", roles=frozenset({"agent"}))
MARKETER = Caller(user_id="mkt-1", email="max@corp.test", roles=frozenset({"marketer"}))
HOURS = BusinessCalendar(timezone="UTC")  # Monday to Friday, 09:00-17:00


def targets(first_response: float, resolution: float) -> Targets:
    return Targets(first_response=timedelta(hours=first_response), resolution=timedelta(hours=resolution))


# Default escalation ladder: level 1 at the deadline, level 2 two business hours later (team lead,
# move to "escalations"), level 3 four business hours later (raise priority, management).
BOOK = PolicyBook(
    policies=(
        SlaPolicy(
            id="standard",
            calendar=HOURS,
            targets={
                "low": targets(4, 16),
                "normal": targets(1, 8),
                "high": targets(0.5, 4),
                "urgent": targets(0.25, 2),
            },
        ),
        SlaPolicy(
            id="billing-24x7",
            calendar=BusinessCalendar.always_open(),
            targets={"normal": targets(2, 24), "high": targets(1, 8), "urgent": targets(0.5, 4)},
            team="billing",
        ),
    )
)


class Books:
    """The policy book in force; tests edit it as an admin would."""

    def __init__(self, book: PolicyBook) -> None:
        self.book = book

    def current(self) -> PolicyBook:
        return self.book


def counter_ids(start: int = 1) -> Any:
    numbers = itertools.count(start)
    return lambda: f"{next(numbers):08x}{'a' * 24}"  # distinct first eight digits: the case reference


class World:
    def __init__(
        self, book: PolicyBook = BOOK, *, twin_of: World | None = None, acknowledge: frozenset[str] = frozenset()
    ) -> None:
        """`twin_of`: another function instance over the same table, scheduler, bus and clock;
        `acknowledge`: the channels whose new cases the mailer acknowledges (none: the other mail alone)."""
        self.clock: FixedClock = twin_of.clock if twin_of else FixedClock(T0)
        self.bus: RecordingPublisher = twin_of.bus if twin_of else RecordingPublisher()
        self.repo: MemoryCases = twin_of.repo if twin_of else MemoryCases(self.bus)
        self.timers: FakeTimers = twin_of.timers if twin_of else FakeTimers()
        self.outbox = Outbox()
        self.requesters: MemoryRequesters = twin_of.requesters if twin_of else MemoryRequesters()
        self.staff = Staff(
            agents={"agent-1": "ann@corp.test", "agent-2": "bob@corp.test"},
            leads={"support": "lead@corp.test", "escalations": "esc-lead@corp.test"},
            management=["boss@corp.test"],
        )
        self.signer = Signer(b"k" * 32)
        ids = counter_ids(10_000 if twin_of else 1)
        generations = itertools.count(10_000 if twin_of else 1)
        self.books: Books = twin_of.books if twin_of else Books(book)
        self.writer = CaseWriter(self.repo, self.timers, self.books, lambda: f"{next(generations):08x}")
        self.intake = CaseIntake(self.writer, self.repo, self.requesters, self.clock, ids)
        self.work = CaseWork(self.writer, self.repo, self.clock, ids, backoff=lambda attempt: None)
        self.survey = CsatSurvey(self.writer, self.repo, self.signer, self.clock)
        self.queries = CaseQueries(self.repo, self.books)
        self.firing = SlaTimerService(self.writer, self.repo, self.clock)
        self.mailer = CaseMailer(
            self.repo,
            self.requesters,
            self.staff,
            self.outbox,
            self.signer,
            self.clock,
            case_url="https://crm.test/cases/{case_id}",
            survey_url="https://help.test/csat",
            survey_ttl=timedelta(days=14),
            acknowledge=acknowledge,
        )
        self._mailed = 0

    def open(self, **fields: Any) -> Case:
        req = {"requester_email": "Carla@Example.com", "subject": "Printer on fire", "description": "Help", **fields}
        return self.intake.open_for_agent(AgentCaseRequest.model_validate(req), AGENT)

    def case(self, case_id: str) -> Case:
        case = self.repo.get(case_id)
        assert case is not None
        return case

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta).total_seconds())

    def fire_due(self) -> list[str]:
        """Deliver every due timer, and the ones set due while doing so, like Scheduler + SQS."""
        outcomes: list[str] = []
        while fired := self.timers.pop_due(self.clock.now()):
            outcomes += [self.firing.on_timer(t.payload) for t in fired]
        return outcomes

    def deliver_mail(self) -> int:
        """Hand the events published since the last call to the case mailer."""
        events = self.bus.events[self._mailed :]
        self._mailed = len(self.bus.events)
        return sum(self.mailer.handle(e) for e in events if isinstance(e, CaseEvent))
