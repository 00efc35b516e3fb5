"""Mail that SES (moto) accepted, as a person or a test reads it: JSON and an HTML page.

moto keeps sent mail in its SES backend, in this process, but records no time and keeps every
mail for as long as the process runs: the outbox swaps the backend's list for one that stamps each
message with the process clock and a sequence number as it is appended, and keeps only the newest
`LIMIT` (a long fuzzing run or a big campaign must not grow the process without bound).
"""

from __future__ import annotations

import html
import re
import threading
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from email.utils import getaddresses
from typing import Any

from ecrm.clock import Clock

from ecrm_local.lambdas import ACCOUNT, REGION

_URL = re.compile(r"(https?://[^\s<>\"']+)")
LIMIT = 2000  # mails kept readable; older ones leave the outbox (moto's send count is unchanged)


class _StampedList(list[Any]):
    """moto's `sent_messages`: each mail stamped (sequence, time) as it arrives, the oldest dropped
    past `limit`, and each one parsed at most once (the outbox page and the SES events read them)."""

    def __init__(self, items: list[Any], clock: Clock, limit: int = LIMIT) -> None:
        super().__init__()
        self.clock = clock
        self.limit = limit
        self.total = 0
        self.stamps: dict[int, tuple[int, str]] = {}
        self.parsed: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        for item in items:
            self.append(item)

    def append(self, item: Any) -> None:
        with self._lock:
            self.total += 1
            self.stamps[id(item)] = (self.total, self.clock.now().isoformat())
            super().append(item)
            excess = len(self) - self.limit
            if excess > 0:
                for old in self[:excess]:
                    sequence, _ = self.stamps.pop(id(old), (0, ""))
                    self.parsed.pop(sequence, None)
                del self[:excess]

    def since(self, after: int) -> list[tuple[int, str, Any]]:
        """(sequence, sent_at, moto's message) of each kept mail newer than `after`, oldest first."""
        with self._lock:
            stamped = [(*self.stamps[id(item)], item) for item in self]
        return [entry for entry in stamped if entry[0] > after]


def _backend() -> Any:
    from moto.ses.models import ses_backends  # moto only where the local stack runs, never at Lambda runtime

    return ses_backends[ACCOUNT][REGION]


def install(clock: Clock) -> None:
    backend = _backend()
    if not isinstance(backend.sent_messages, _StampedList):
        backend.sent_messages = _StampedList(backend.sent_messages, clock)


def total() -> int:
    """How many mails moto's SES accepted since the outbox was installed (dropped ones included)."""
    sent = _backend().sent_messages
    return sent.total if isinstance(sent, _StampedList) else len(sent)


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else None


def _from_raw(raw: str) -> dict[str, Any]:
    message = Parser(policy=policy.default).parsestr(raw)
    assert isinstance(message, EmailMessage)
    return {
        "to": [address for _, address in getaddresses(message.get_all("To", []))],
        "from": str(message.get("From", "")),
        "subject": str(message.get("Subject", "")),
        "text": _part(message, "plain"),
        "html": _part(message, "html"),
        "headers": {name: str(value) for name, value in message.items()},
    }


def _from_simple(sent: Any) -> dict[str, Any]:
    # SES v2 Simple content reaches moto's v1 backend as one body: HTML if given, else text.
    body = str(getattr(sent, "body", "") or "")
    destinations = getattr(sent, "destinations", {}) or {}
    return {
        "to": list(destinations.get("ToAddresses", [])),
        "from": sent.source,
        "subject": str(getattr(sent, "subject", "") or getattr(sent, "template", "")),
        "text": body,
        "html": body if "<" in body else None,
        "headers": {},
    }


def _entry(item: Any) -> dict[str, Any]:
    raw = getattr(item, "raw_data", None)
    return _from_raw(raw) if raw is not None else _from_simple(item)


def fresh(after: int = 0) -> list[tuple[int, dict[str, Any], str]]:
    """(sequence, mail, SES message id) of each kept mail newer than sequence `after`, oldest first."""
    sent = _backend().sent_messages
    if not isinstance(sent, _StampedList):  # not installed: no stamps, numbered as listed
        return [(n, {**_entry(item), "sent_at": None}, str(getattr(item, "id", ""))) for n, item in enumerate(sent, 1)][
            after:
        ]
    out = []
    for sequence, sent_at, item in sent.since(after):
        entry = sent.parsed.get(sequence)
        if entry is None:
            entry = sent.parsed[sequence] = {**_entry(item), "sent_at": sent_at}
        out.append((sequence, entry, str(getattr(item, "id", ""))))
    return out


def raw_messages() -> list[tuple[dict[str, Any], str]]:
    """Kept mail with SES's message id for each, oldest first."""
    return [(entry, message_id) for _, entry, message_id in fresh()]


def messages() -> list[dict[str, Any]]:
    """Kept mail, oldest first, each with its SES message id (`message_id`)."""
    return [{**entry, "message_id": message_id} for _, entry, message_id in fresh()]


def _linked(text: str) -> str:
    """Escaped text whose http(s) links can be clicked (the confirm link, locally)."""
    return _URL.sub(r'<a href="\1">\1</a>', html.escape(text))


def links(item: dict[str, Any]) -> list[str]:
    """The distinct http(s) links of a mail (its HTML part's, else its text's), in order."""
    found = _URL.findall(item.get("html") or "") or _URL.findall(item.get("text") or "")
    return list(dict.fromkeys(link.rstrip(".,;)") for link in found))


def _engage_buttons(item: dict[str, Any]) -> str:
    """Buttons that make SES's Open / Click events for the mail (static/outbox.js posts them)."""
    message_id = html.escape(str(item.get("message_id") or ""), quote=True)
    if not message_id:
        return ""
    buttons = [f"<button type='button' data-engage='open' data-message='{message_id}'>Simulate open</button>"]
    for link in links(item):
        quoted = html.escape(link, quote=True)
        buttons.append(
            f"<button type='button' data-engage='click' data-message='{message_id}' data-link='{quoted}'>"
            f"Simulate click on <code>{html.escape(link)}</code></button>"
        )
    return f"<p class='engage'>{' '.join(buttons)} <output></output></p>"


def render_html(mail: list[dict[str, Any]]) -> str:
    rows = []
    for index, item in enumerate(reversed(mail), 1):
        headers = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in item["headers"].items()
        )
        rows.append(
            f"<article><h2>{html.escape(item['subject'])}</h2>"
            f"<p><b>To</b> {html.escape(', '.join(item['to']))} · <b>From</b> {html.escape(item['from'])}"
            f" · <b>Sent</b> {html.escape(str(item['sent_at']))}</p>"
            f"{_engage_buttons(item)}"
            f"<details><summary>Headers</summary><table>{headers}</table></details>"
            f"<h3>Text</h3><pre>{_linked(item['text'] or '')}</pre>"
            f"<details><summary>HTML source</summary><pre>{html.escape(item['html'] or '')}</pre></details>"
            f"</article><hr id='m{index}'>"
        )
    body = "".join(rows) or "<p>No mail sent yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local outbox</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}pre{white-space:pre-wrap;"
        "background:#f4f4f4;padding:.5rem}th{text-align:left;padding-right:1rem}.engage button{margin:.1rem}"
        "</style><script src='/_local/outbox.js' defer></script></head><body>"
        f"<h1>Local outbox ({len(mail)} mail kept, newest first)</h1>{body}</body></html>"
    )
