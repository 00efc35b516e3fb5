"""What the cases domain needs from the outside world. docs/cases.md gives the DynamoDB design.

Pages are `(items, next_cursor)`; a cursor is opaque to the domain and None on the last page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ecrm.cases.models import (
    AuditEntry,
    Case,
    Comment,
    EscalationRecord,
    Priority,
    RecomputeRequest,
    Requester,
    StaffConfig,
)
from ecrm.cases.policy import PolicyBook, PolicyBookView
from ecrm.events import DomainEvent


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def create(
        self,
        case: Case,
        audit: Sequence[AuditEntry],
        *,
        idempotency_key: str | None = None,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """Write a new case and its first history lines, all or nothing. Raise AlreadyExists when
        the id, or the idempotency key (a channel's message id), is taken already. `events` (in
        every write here) commit with the write or not at all: the transactional outbox."""
        ...

    def find_by_idempotency_key(self, key: str) -> str | None:
        """The id of the case made for this key, if any."""
        ...

    def save(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        *,
        comments: Sequence[Comment] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """Write `case` (at its new version) with its history lines and comments, all or nothing,
        if the stored case is still at `expected_version`; else raise Conflict and write nothing."""
        ...

    def apply_escalation(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        records: Sequence[EscalationRecord],
        *,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """`save`, plus one record per applied SLA step, each written only if no record with its
        key exists for the case. All or nothing: Conflict if the version moved, AlreadyExists if a
        record exists (then nothing is written)."""
        ...

    def escalations(self, case_id: str) -> list[EscalationRecord]:
        """Every SLA step applied to the case, in key order."""
        ...

    def history(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """The case's audit trail, oldest first."""
        ...

    def comments(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[Comment], str | None]:
        """The case's comments, oldest first."""
        ...

    def comment(self, case_id: str, comment_id: str) -> Comment | None: ...

    # Work queues: active cases only (new, open, pending, on hold), ordered by Case.queue_key
    # (next deadline first, paused cases last).
    def list_assigned(self, assignee_id: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]: ...
    def list_team(self, team: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]: ...
    def list_breached(self, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        """Active cases with a milestone past its deadline and not met (Case.in_breach)."""
        ...

    def open_cases(
        self, priority: Priority, team: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Case], str | None]:
        """Active cases of one priority (and of one team, if given): what a policy edit replans."""
        ...

    def solved_between(self, since: datetime, until: datetime, limit: int) -> tuple[list[Case], bool]:
        """Cases solved in [since, until), at most `limit`; True if that was all of them."""
        ...

    def cases_of_requester(self, contact_id: str) -> list[str]:
        """The ids of every case the contact asked for."""
        ...

    def rewrite_trail(self, case_id: str, comments: Sequence[Comment], audit: Sequence[AuditEntry]) -> None:
        """Overwrite existing comments and history lines in place. Only for erasure: the history
        is otherwise append-only."""
        ...

    def claim_mail(self, case_id: str, key: str, now: datetime) -> bool:
        """Record that mail `key` is being sent; False if it was sent already or another sender
        holds a fresh claim on it."""
        ...

    def mark_mail_sent(self, case_id: str, key: str, message_id: str, now: datetime) -> None: ...

    def mark_mail_failed(self, case_id: str, key: str, reason: str, now: datetime) -> None:
        """Settle the claim as `failed` with its reason: the mail can never be sent."""
        ...

    def release_mail(self, case_id: str, key: str, claimed_at: datetime) -> None:
        """Drop our own open claim after a transient failure, so the retry may send."""
        ...


class ReadOnlyRequesterDirectory(Protocol):
    """Requesters read by id: what the case mailer gets (it never creates one)."""

    def get(self, contact_id: str) -> Requester | None:
        """None if the contact is gone (erased)."""
        ...


class RequesterDirectory(ReadOnlyRequesterDirectory, Protocol):
    """The people who ask for help, kept as contacts (ecrm.cases.requesters adapts the contacts
    repository)."""

    def find_or_create(self, requester: Requester) -> str:
        """The id of the contact with this e-mail address, created if there is none."""
        ...


class StaffDirectory(Protocol):
    """Who to tell inside the company: agents by user id, team leads, management."""

    def email_of(self, user_id: str) -> str | None: ...
    def team_lead(self, team: str) -> str | None:
        """The lead's e-mail address."""
        ...

    def management(self) -> Sequence[str]: ...


class PolicySource(Protocol):
    def current(self) -> PolicyBook:
        """The SLA policy book in force."""
        ...


class PolicyStore(Protocol):
    def current_view(self) -> PolicyBookView:
        """The stored book (the standard book at version 0 if none was ever saved), uncached."""
        ...

    def save(self, view: PolicyBookView, expected_version: int) -> None:
        """Store `view` (its version is expected_version + 1) and keep the old one in the history;
        Conflict if the stored version moved on."""
        ...


class RecomputeQueue(Protocol):
    def enqueue(self, requests: Sequence[RecomputeRequest]) -> None:
        """Queue the requests (the admin's queue delays them until the policy cache has the new
        book; the recompute function's continuations go at once)."""
        ...


class StaffStore(Protocol):
    def remember(self, user_id: str, email: str, now: datetime) -> None:
        """Record (or update) a staff member's address."""
        ...

    def email_of(self, user_id: str) -> str | None: ...

    def config(self) -> StaffConfig: ...

    def save_config(self, config: StaffConfig, expected_version: int) -> None:
        """Write `config` (at expected_version + 1); Conflict if the stored one moved on."""
        ...
