"""SLA policy edits: admins replace the policy book; the active cases it affects get new timer plans.

The edit is stored (versioned, against the version it was read at) and answered at once; the
replanning runs off a queue, one page of cases per message, each message sending on the next page.
Which cases: the policies that changed name their scope (team, tag, the priorities whose targets
moved); a scope is queried on the index of active cases by priority and team, never scanned.

Functions cache the book for a short while (the adapter's `cache_seconds`), so the first message
is delayed by that long plus a margin: by the time it runs, no function plans with the old book,
and every case written under the old one is on the index (docs/cases.md, "Policy edits").
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ecrm.access import Caller
from ecrm.cases.models import PRIORITIES, Priority, RecomputeRequest
from ecrm.cases.policy import PolicyBook, PolicyBookView, SlaPolicy
from ecrm.cases.ports import CaseRepository, PolicyStore, RecomputeQueue
from ecrm.cases.service import CaseWork
from ecrm.clock import Clock
from ecrm.model import Model

PAGE = 20


class PolicyBookUpdate(Model):
    """PUT /cases/policies: the whole book (exactly one default policy), against the version read."""

    model_config = ConfigDict(extra="forbid")

    book: PolicyBook
    expected_version: int = Field(ge=0, description="0 when replacing the standard book")


def _priorities(old: SlaPolicy | None, new: SlaPolicy | None) -> set[Priority]:
    if old is None or new is None:
        return set(PRIORITIES)
    if old.model_copy(update={"targets": {}}) != new.model_copy(update={"targets": {}}):
        return set(PRIORITIES)  # the calendar, warning or ladder moved: every priority
    return {p for p in PRIORITIES if old.targets.get(p) != new.targets.get(p)}


def scopes(old: PolicyBook, new: PolicyBook, version: int) -> list[RecomputeRequest]:
    """The replanning a change from `old` to `new` calls for. A policy added, removed or edited
    affects the cases it selects (its team and tag; the default policy: all of them), in the
    priorities whose targets moved."""
    before = {p.id: p for p in old.policies}
    after = {p.id: p for p in new.policies}
    found: dict[tuple[str | None, str | None], set[Priority]] = {}
    for policy_id in before.keys() | after.keys():
        was, now = before.get(policy_id), after.get(policy_id)
        if was == now:
            continue
        for policy in (p for p in (was, now) if p is not None):
            found.setdefault((policy.team, policy.tag), set()).update(_priorities(was, now))
    everything = found.get((None, None), set())
    requests = []
    for (team, tag), priorities in sorted(found.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
        wanted = priorities if (team, tag) == (None, None) else priorities - everything
        requests += [
            RecomputeRequest(book_version=version, priority=p, team=team, tag=tag) for p in PRIORITIES if p in wanted
        ]
    return requests


class PolicyAdmin:
    def __init__(self, store: PolicyStore, queue: RecomputeQueue, clock: Clock) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock

    def get(self) -> PolicyBookView:
        return self._store.current_view()

    def update(self, req: PolicyBookUpdate, caller: Caller) -> PolicyBookView:
        old = self._store.current_view()
        view = PolicyBookView(
            version=req.expected_version + 1, book=req.book, updated_at=self._clock.now(), updated_by=caller.user_id
        )
        self._store.save(view, req.expected_version)  # Conflict if `old` was not what the admin saw
        self._queue.enqueue(scopes(old.book, req.book, view.version))
        return view


class Recompute:
    """The recompute queue's consumer: one page of cases per message."""

    def __init__(self, repo: CaseRepository, work: CaseWork) -> None:
        self._repo = repo
        self._work = work

    def run(self, req: RecomputeRequest) -> RecomputeRequest | None:
        """Replan one page; the request for the next page, if there is one."""
        cases, cursor = self._repo.open_cases(req.priority, req.team, PAGE, req.cursor)
        for case in cases:
            if req.tag is None or req.tag in case.tags:
                self._work.recompute(case.id)
        return req.model_copy(update={"cursor": cursor}) if cursor else None
