"""The case mailer: turns case events into mail (acknowledgements, public replies, CSAT surveys,
SLA notices).

It runs off the bus (rule -> queue -> function), like the consent mailer: the API answers without
waiting for SES, and SES throttling becomes a retry. Each mail is claimed under a business key
before it is sent and marked sent after, so a redelivered event sends nothing twice (a crash
between SES accepting and the mark re-sends once: at least once, never lost). A mail that can
never be sent is marked failed with its reason (ecrm.mail.send_once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from ecrm.cases import notifications
from ecrm.cases.events import CaseCommented, CaseCreated, CaseEscalated, CaseEvent, CaseSolved, SlaWarning
from ecrm.cases.models import Case, EscalationRecord, Milestone, escalation_key
from ecrm.cases.ports import CaseRepository, ReadOnlyRequesterDirectory, StaffDirectory
from ecrm.cases.service import survey_token
from ecrm.clock import Clock
from ecrm.contacts.ports import TokenSigner
from ecrm.mail import Mail, Mailer, send_once


class CaseMailer:
    def __init__(
        self,
        repo: CaseRepository,
        requesters: ReadOnlyRequesterDirectory,
        staff: StaffDirectory,
        mailer: Mailer,
        signer: TokenSigner,
        clock: Clock,
        *,
        case_url: str,
        survey_url: str,
        survey_ttl: timedelta,
        acknowledge: frozenset[str] = frozenset(),
    ) -> None:
        self._repo = repo
        self._requesters = requesters
        self._staff = staff
        self._mailer = mailer
        self._signer = signer
        self._clock = clock
        self._case_url = case_url  # the agent UI's page of a case, with a {case_id} placeholder
        self._survey_url = survey_url
        self._survey_ttl = survey_ttl
        self._acknowledge = acknowledge  # channels whose new cases are acknowledged to the requester

    def handle(self, event: CaseEvent) -> int:
        """Send what the event calls for; the number of mails sent."""
        if isinstance(event, CaseCreated) and event.channel in self._acknowledge:
            return self.acknowledgement(event.case_id)
        if isinstance(event, CaseCommented) and event.visibility == "public":
            return self.reply(event.case_id, event.comment_id)
        if isinstance(event, CaseSolved):
            return self.survey(event.case_id)
        if isinstance(event, SlaWarning):
            return self.step(event.case_id, event.milestone, event.cycle, 0)
        if isinstance(event, CaseEscalated):
            return self.step(event.case_id, event.milestone, event.cycle, event.level)
        return 0

    def acknowledgement(self, case_id: str) -> int:
        """One per case: the request arrived, here is its reference."""
        case = self._repo.get(case_id)
        if case is None:
            return 0
        requester = self._requesters.get(case.requester_id)
        if requester is None:
            return 0  # the requester was erased
        return self._send(case.id, "ack", lambda: notifications.acknowledgement(case, requester))

    def reply(self, case_id: str, comment_id: str) -> int:
        case = self._repo.get(case_id)
        comment = self._repo.comment(case_id, comment_id)
        if case is None or comment is None or comment.visibility != "public":
            return 0
        requester = self._requesters.get(case.requester_id)
        if requester is None:
            return 0  # the requester was erased
        return self._send(case.id, f"reply#{comment_id}", lambda: notifications.public_reply(case, requester, comment))

    def survey(self, case_id: str) -> int:
        """One survey per case: not for a case rated already or reopened before this ran."""
        case = self._repo.get(case_id)
        if case is None or case.status != "solved" or case.csat is not None:
            return 0
        requester = self._requesters.get(case.requester_id)
        if requester is None:
            return 0

        def render() -> Mail:
            token = survey_token(self._signer, case.id, self._clock.now() + self._survey_ttl)
            link = f"{self._survey_url}?{urlencode({'token': token})}"
            return notifications.csat_survey(case, requester, link, self._survey_ttl)

        return self._send(case.id, "csat", render)

    def step(self, case_id: str, milestone: Milestone, cycle: int, step: int) -> int:
        case = self._repo.get(case_id)
        key = escalation_key(milestone, cycle, step)
        record = next((r for r in self._repo.escalations(case_id) if r.key == key), None)
        if case is None or record is None:
            return 0
        clock = case.sla.clocks[milestone]
        if step == 0 and clock.cycle == cycle and clock.met_at is not None:
            return 0  # a warning about a milestone met meanwhile is noise
        url = self._case_url.format(case_id=case.id)
        sent = 0
        for to in self._recipients(case, record):
            mail_key = f"sla#{key}#{hashlib.sha256(to.encode()).hexdigest()[:16]}"
            sent += self._send(case.id, mail_key, partial(notifications.step_notice, case, record, to, url))
        return sent

    def _recipients(self, case: Case, record: EscalationRecord) -> list[str]:
        found: list[str] = []
        for audience in record.notify:
            found += [a for a in self._audience(case, record, audience) if a not in found]
        return found

    def _audience(self, case: Case, record: EscalationRecord, audience: str) -> list[str]:
        """Whoever stands behind the audience; an unassigned case's notice goes to the team lead,
        a team without a lead's to management, so a notice always reaches somebody."""
        if audience == "assignee":
            email = self._staff.email_of(case.assignee_id) if case.assignee_id else None
            if email:
                return [email]
            audience = "team_lead"
        if audience == "team_lead":
            lead = self._staff.team_lead(record.team) if record.team else None
            if lead:
                return [lead]
        return list(self._staff.management())

    def _send(self, case_id: str, key: str, render: Callable[[], Mail]) -> int:
        return int(send_once(self._repo, self._mailer, self._clock, case_id, key, render) == "sent")
