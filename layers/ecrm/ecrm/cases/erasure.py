"""A requester's erasure (ContactErased.v1) reaches their cases: the free text is redacted.

Cases are kept, not deleted: their priority, status, SLA clocks, escalations, CSAT rating and who
did what when are the support team's record and feed the metrics, and hold no personal data. What
may (subject, description, every comment, the CSAT comment, the text copied into the history) is
overwritten with REDACTED. Idempotent: a repeated event (or a retry after a crash part-way)
redacts again what is already redacted and changes nothing else; the case itself is written last,
so a crash leaves it unmarked and the retry finishes the job.
"""

from __future__ import annotations

from typing import Any

from ecrm.cases.models import AuditEntry, Case, Comment
from ecrm.cases.ports import CaseRepository
from ecrm.clock import Clock
from ecrm.errors import Conflict

REDACTED = "[erased]"
ERASURE = "system:erasure"
# Keys under which text from the requester (or about them) can appear in a history line.
TEXT_KEYS = frozenset({"subject", "description", "body", "comment"})
_ATTEMPTS = 3
_PAGE = 100


def _scrub(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if k in TEXT_KEYS and v is not None else v) for k, v in values.items()}


def redact_entry(entry: AuditEntry) -> AuditEntry:
    return entry.model_copy(
        update={"before": _scrub(entry.before), "after": _scrub(entry.after), "detail": _scrub(entry.detail)}
    )


def redact_case(case: Case) -> Case:
    csat = case.csat.model_copy(update={"comment": None}) if case.csat and case.csat.comment else case.csat
    return case.model_copy(update={"subject": REDACTED, "description": REDACTED, "csat": csat})


class CaseErasure:
    def __init__(self, repo: CaseRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def erase_requester(self, contact_id: str) -> int:
        """Redact every case of the contact; the number of cases looked at."""
        case_ids = self._repo.cases_of_requester(contact_id)
        for case_id in case_ids:
            self._redact(case_id)
        return len(case_ids)

    def _redact(self, case_id: str) -> None:
        self._redact_trail(case_id)
        for _ in range(_ATTEMPTS):
            case = self._repo.get(case_id)
            if case is None or case.requester_erased_at is not None:
                return
            now = self._clock.now()
            redacted = redact_case(case).model_copy(
                update={"requester_erased_at": now, "version": case.version + 1, "updated_at": now}
            )
            entry = AuditEntry(
                case_id=case_id,
                version=redacted.version,
                seq=0,
                at=now,
                actor=ERASURE,
                action="requester_erased",
                after={"redacted": ["subject", "description", "comments", "csat.comment"]},
            )
            try:
                self._repo.save(redacted, case.version, [entry])
            except Conflict:
                self._redact_trail(case_id)  # whatever the other writer added
                continue
            return
        raise Conflict("case kept changing while it was being redacted")

    def _redact_trail(self, case_id: str) -> None:
        comments = [c.model_copy(update={"body": REDACTED}) for c in self._all_comments(case_id) if c.body != REDACTED]
        redacted = ((entry, redact_entry(entry)) for entry in self._all_history(case_id))
        changed = [new for old, new in redacted if new != old]
        if comments or changed:
            self._repo.rewrite_trail(case_id, comments, changed)

    def _all_comments(self, case_id: str) -> list[Comment]:
        found, cursor = self._repo.comments(case_id, _PAGE, None)
        while cursor:
            more, cursor = self._repo.comments(case_id, _PAGE, cursor)
            found += more
        return found

    def _all_history(self, case_id: str) -> list[AuditEntry]:
        found, cursor = self._repo.history(case_id, _PAGE, None)
        while cursor:
            more, cursor = self._repo.history(case_id, _PAGE, cursor)
            found += more
        return found
