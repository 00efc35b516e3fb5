"""The mails of the cases capability, rendered as plain text and HTML.

Everything that came from a customer or an agent (subject, names, comment text) is escaped in
the HTML part; links are escaped as attribute values.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from ecrm.cases.models import Case, Comment, EscalationRecord, Requester
from ecrm.mail import Mail

_MILESTONE = {"first_response": "first response", "resolution": "resolution"}


def reference(case: Case) -> str:
    """The short case reference customers and agents quote: the first eight hex digits of its id."""
    return case.id[:8]


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p.strip())


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _greeting(requester: Requester) -> str:
    return requester.first_name or "there"


def _headers(case: Case) -> dict[str, str]:
    return {"X-Case-Reference": reference(case)}


def _to_requester(case: Case, requester: Requester, subject: str, text: str, body: str) -> Mail:
    return Mail(to=requester.email, subject=subject, text=text, html=body, headers=_headers(case))


def step_notice(case: Case, record: EscalationRecord, to: str, case_url: str) -> Mail:
    """To staff: an SLA warning (step 0) or an escalation level."""
    milestone = _MILESTONE[record.milestone]
    if record.step == 0:
        subject = f"[{reference(case)}] SLA warning: {milestone} due {_when(record.due_at)}"
        lead = f"The {milestone} of this case is due at {_when(record.due_at)}."
    else:
        subject = f"[{reference(case)}] Escalation level {record.step}: {milestone} overdue"
        lead = (
            f"The {milestone} of this case was due at {_when(record.due_at)} and has escalated to level {record.step}."
        )
    facts = f"Priority: {case.priority}\nTeam: {case.team or '-'}\nStatus: {case.status}"
    text = f"{lead}\n\nCase: {case.subject}\n{facts}\n\n{case_url}\n"
    body = (
        f"<p>{html.escape(lead)}</p><p><strong>{html.escape(case.subject)}</strong></p>"
        f"<p>{html.escape(facts).replace(chr(10), '<br>')}</p>"
        f'<p><a href="{html.escape(case_url, quote=True)}">Open the case</a></p>'
    )
    return Mail(to=to, subject=subject, text=text, html=body, headers=_headers(case))


def acknowledgement(case: Case, requester: Requester) -> Mail:
    """To the requester, once a case is opened: it arrived, and the reference to quote."""
    subject = f"We received your request: {case.subject} [#{reference(case)}]"
    lead = (
        "thank you for contacting us. Your request has reached our support team; "
        f"please quote the reference #{reference(case)} if you write to us about it."
    )
    text = f"Hello {_greeting(requester)},\n\n{lead}\n\nYour request: {case.subject}\n\n-- \nCase #{reference(case)}\n"
    body = (
        f"<p>Hello {html.escape(_greeting(requester))},</p><p>{html.escape(lead)}</p>"
        f"<p>Your request: <strong>{html.escape(case.subject)}</strong></p><p>-- <br>Case #{reference(case)}</p>"
    )
    return _to_requester(case, requester, subject, text, body)


def public_reply(case: Case, requester: Requester, comment: Comment) -> Mail:
    """To the requester: an agent's public reply."""
    subject = f"Re: {case.subject} [#{reference(case)}]"
    text = f"Hello {_greeting(requester)},\n\n{comment.body}\n\n-- \nCase #{reference(case)}\n"
    body = (
        f"<p>Hello {html.escape(_greeting(requester))},</p>{_paragraphs(comment.body)}"
        f"<p>-- <br>Case #{reference(case)}</p>"
    )
    return Mail(
        to=requester.email, subject=subject, text=text, html=body, headers={"X-Case-Reference": reference(case)}
    )


def csat_survey(case: Case, requester: Requester, link: str, ttl: timedelta) -> Mail:
    """To the requester on solve: how did we do? One click opens the signed survey page."""
    days = max(1, int(ttl.total_seconds() // 86400))
    subject = f"How did we do? [#{reference(case)}]"
    text = (
        f'Hello {_greeting(requester)},\n\nwe have solved your request "{case.subject}". '
        f"Please tell us how we did, on a scale of 1 to 5:\n\n{link}\n\n"
        f"The link works for {days} days. If something is still wrong, just reply to our last mail.\n"
    )
    body = (
        f"<p>Hello {html.escape(_greeting(requester))},</p>"
        f"<p>we have solved your request &quot;{html.escape(case.subject)}&quot;. "
        "Please tell us how we did, on a scale of 1 to 5:</p>"
        f'<p><a href="{html.escape(link, quote=True)}">Rate our support</a></p>'
        f"<p>The link works for {days} days.</p>"
    )
    return Mail(
        to=requester.email, subject=subject, text=text, html=body, headers={"X-Case-Reference": reference(case)}
    )
