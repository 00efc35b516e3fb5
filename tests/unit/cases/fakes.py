"""In-memory stand-ins for the cases ports, with the conditional semantics the DynamoDB adapter
must have: version checks, records written once, idempotency keys, keyset pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from ecrm.cases.models import AuditEntry, Case, Comment, EscalationRecord, Priority, Requester
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.timers import Timer

from tests.unit.fakes import RecordingPublisher

MAIL_LEASE = timedelta(minutes=2)


T = TypeVar("T")


def _page(items: list[T], key: Callable[[T], str], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    ordered = sorted(items, key=key)
    rest = [i for i in ordered if cursor is None or key(i) > cursor]
    page = rest[:limit]
    return page, key(page[-1]) if len(rest) > limit else None


class MemoryCases:
    """`events`: where each write's events go once it succeeded (the outbox, then the bus)."""

    def __init__(self, events: RecordingPublisher | None = None) -> None:
        self.events = events if events is not None else RecordingPublisher()
        self.cases: dict[str, Case] = {}
        self.audit: dict[str, list[AuditEntry]] = {}
        self.comment_items: dict[str, list[Comment]] = {}
        self.keys: dict[str, str] = {}
        self.records: dict[tuple[str, str], EscalationRecord] = {}
        self.mail: dict[tuple[str, str], dict[str, object]] = {}
        self.writes = 0
        # Runs once, just before the next write checks its condition: another writer's turn.
        self.before_write: Callable[[], None] | None = None

    def _interleave(self) -> None:
        hook, self.before_write = self.before_write, None
        if hook:
            hook()

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def create(
        self,
        case: Case,
        audit: Sequence[AuditEntry],
        *,
        idempotency_key: str | None = None,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        self._interleave()
        if case.id in self.cases or (idempotency_key and idempotency_key in self.keys):
            raise AlreadyExists(idempotency_key or case.id)
        assert case.version == 1
        self.writes += 1
        self.events.publish(events)
        self.cases[case.id] = case
        self.audit[case.id] = list(audit)
        if idempotency_key:
            self.keys[idempotency_key] = case.id

    def find_by_idempotency_key(self, key: str) -> str | None:
        return self.keys.get(key)

    def _check(self, case: Case, expected_version: int) -> None:
        stored = self.cases.get(case.id)
        if stored is None or stored.version != expected_version:
            raise Conflict(case.id)
        assert case.version == expected_version + 1, "a save must bump the version by one"

    def save(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        *,
        comments: Sequence[Comment] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        self._interleave()
        self._check(case, expected_version)
        self._write(case, audit, comments)
        self.events.publish(events)

    def _write(self, case: Case, audit: Sequence[AuditEntry], comments: Sequence[Comment] = ()) -> None:
        self.writes += 1
        self.cases[case.id] = case
        self.audit[case.id].extend(audit)
        self.comment_items.setdefault(case.id, []).extend(comments)

    def apply_escalation(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        records: Sequence[EscalationRecord],
        *,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        self._interleave()
        self._check(case, expected_version)
        if any((case.id, r.key) in self.records for r in records):
            raise AlreadyExists("escalation record")
        self._write(case, audit)
        self.records.update({(case.id, r.key): r for r in records})
        self.events.publish(events)

    def escalations(self, case_id: str) -> list[EscalationRecord]:
        return [r for (cid, key), r in sorted(self.records.items()) if cid == case_id]

    def history(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        return _page(self.audit.get(case_id, []), lambda e: f"{e.version:010d}#{e.seq:03d}", limit, cursor)

    def comments(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[Comment], str | None]:
        return _page(self.comment_items.get(case_id, []), lambda c: c.id, limit, cursor)  # ids sort by time

    def comment(self, case_id: str, comment_id: str) -> Comment | None:
        return next((c for c in self.comment_items.get(case_id, []) if c.id == comment_id), None)

    def _queue(self, keep: Callable[[Case], bool], limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return _page([c for c in self.cases.values() if c.active and keep(c)], lambda c: c.queue_key, limit, cursor)

    def list_assigned(self, assignee_id: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._queue(lambda c: c.assignee_id == assignee_id, limit, cursor)

    def list_team(self, team: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._queue(lambda c: c.team == team, limit, cursor)

    def list_breached(self, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._queue(lambda c: c.in_breach, limit, cursor)

    def open_cases(
        self, priority: Priority, team: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Case], str | None]:
        def keep(c: Case) -> bool:
            return c.priority == priority and (team is None or c.team == team)

        return _page([c for c in self.cases.values() if c.active and keep(c)], lambda c: c.id, limit, cursor)

    def solved_between(self, since: datetime, until: datetime, limit: int) -> tuple[list[Case], bool]:
        solved = [c for c in self.cases.values() if c.solved_at is not None and since <= c.solved_at < until]
        ordered = sorted(solved, key=lambda c: (c.solved_at, c.id))
        return ordered[:limit], len(ordered) <= limit

    def cases_of_requester(self, contact_id: str) -> list[str]:
        return sorted(c.id for c in self.cases.values() if c.requester_id == contact_id)

    def rewrite_trail(self, case_id: str, comments: Sequence[Comment], audit: Sequence[AuditEntry]) -> None:
        self.writes += 1
        by_id = {c.id: c for c in comments}
        self.comment_items[case_id] = [by_id.get(c.id, c) for c in self.comment_items.get(case_id, [])]
        by_key = {(e.version, e.seq): e for e in audit}
        self.audit[case_id] = [by_key.get((e.version, e.seq), e) for e in self.audit.get(case_id, [])]

    def claim_mail(self, case_id: str, key: str, now: datetime) -> bool:
        held = self.mail.get((case_id, key))
        if held is not None and (held["status"] != "sending" or now - held["claimed_at"] < MAIL_LEASE):  # type: ignore[operator]
            return False
        self.mail[(case_id, key)] = {"status": "sending", "claimed_at": now}
        return True

    def mark_mail_sent(self, case_id: str, key: str, message_id: str, now: datetime) -> None:
        self.mail[(case_id, key)] = {"status": "sent", "message_id": message_id, "sent_at": now}

    def mark_mail_failed(self, case_id: str, key: str, reason: str, now: datetime) -> None:
        self.mail[(case_id, key)] = {"status": "failed", "reason": reason, "failed_at": now}

    def release_mail(self, case_id: str, key: str, claimed_at: datetime) -> None:
        held = self.mail.get((case_id, key))
        if held is not None and held["status"] == "sending" and held["claimed_at"] == claimed_at:
            del self.mail[(case_id, key)]


class FakeTimers:
    """Scheduler one-time schedules: set creates or moves, cancel is idempotent, a fired timer is
    deleted (ActionAfterCompletion=DELETE)."""

    def __init__(self) -> None:
        self.active: dict[str, Timer] = {}
        self.calls: list[tuple[str, str]] = []
        # Called before each call with ("set" | "cancel", timer name): raise to crash the caller there.
        self.before_call: Callable[[str, str], None] | None = None

    def set(self, timer: Timer) -> None:
        if self.before_call:
            self.before_call("set", timer.name)
        self.calls.append(("set", timer.name))
        self.active[timer.name] = timer

    def cancel(self, name: str) -> None:
        if self.before_call:
            self.before_call("cancel", name)
        self.calls.append(("cancel", name))
        self.active.pop(name, None)

    def due(self, now: datetime) -> list[Timer]:
        return sorted((t for t in self.active.values() if t.at <= now), key=lambda t: (t.at, t.name))

    def pop_due(self, now: datetime) -> list[Timer]:
        fired = self.due(now)
        for timer in fired:
            del self.active[timer.name]
        return fired

    def for_case(self, case_id: str) -> list[Timer]:
        return sorted((t for t in self.active.values() if t.payload["case_id"] == case_id), key=lambda t: t.at)


class MemoryRequesters:
    def __init__(self) -> None:
        self.people: dict[str, Requester] = {}

    def find_or_create(self, requester: Requester) -> str:
        for cid, known in self.people.items():
            if known.email == requester.email:
                return cid
        cid = f"{len(self.people) + 1:032x}"
        self.people[cid] = requester
        return cid

    def get(self, contact_id: str) -> Requester | None:
        return self.people.get(contact_id)


class Staff:
    def __init__(self, agents: dict[str, str], leads: dict[str, str], management: list[str]) -> None:
        self.agents = agents
        self.leads = leads
        self.managers = management

    def email_of(self, user_id: str) -> str | None:
        return self.agents.get(user_id)

    def team_lead(self, team: str) -> str | None:
        return self.leads.get(team)

    def management(self) -> Sequence[str]:
        return self.managers
