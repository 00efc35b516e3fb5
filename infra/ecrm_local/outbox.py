"""Mail that SES (moto) accepted, as a person or a test reads it: JSON and an HTML page.

moto keeps sent mail in its SES backend, in this process, but records no time: the outbox swaps
the backend's list for one that stamps each message with the process clock as it is appended.
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


class _StampedList(list[Any]):
    def __init__(self, items: list[Any], clock: Clock) -> None:
        super().__init__(items)
        self.clock = clock
        self.stamps: dict[int, str] = {}
        self._lock = threading.Lock()

    def append(self, item: Any) -> None:
        with self._lock:
            self.stamps[id(item)] = self.clock.now().isoformat()
            super().append(item)


def _backend() -> Any:
    from moto.ses.models import ses_backends  # moto only where the local stack runs, never at Lambda runtime

    return ses_backends[ACCOUNT][REGION]


def install(clock: Clock) -> None:
    backend = _backend()
    if not isinstance(backend.sent_messages, _StampedList):
        backend.sent_messages = _StampedList(backend.sent_messages, clock)


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


def raw_messages() -> list[tuple[dict[str, Any], str]]:
    """Sent mail with SES's message id for each, oldest first."""
    sent = list(_backend().sent_messages)
    stamps = getattr(_backend().sent_messages, "stamps", {})
    out = []
    for item in sent:
        raw = getattr(item, "raw_data", None)
        entry = _from_raw(raw) if raw is not None else _from_simple(item)
        entry["sent_at"] = stamps.get(id(item))
        out.append((entry, str(getattr(item, "id", ""))))
    return out


def messages() -> list[dict[str, Any]]:
    """Sent mail, oldest first."""
    return [entry for entry, _ in raw_messages()]


def _linked(text: str) -> str:
    """Escaped text whose http(s) links can be clicked (the confirm link, locally)."""
    return _URL.sub(r'<a href="\1">\1</a>', html.escape(text))


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
            f"<details><summary>Headers</summary><table>{headers}</table></details>"
            f"<h3>Text</h3><pre>{_linked(item['text'] or '')}</pre>"
            f"<details><summary>HTML source</summary><pre>{html.escape(item['html'] or '')}</pre></details>"
            f"</article><hr id='m{index}'>"
        )
    body = "".join(rows) or "<p>No mail sent yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local outbox</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}pre{white-space:pre-wrap;"
        "background:#f4f4f4;padding:.5rem}th{text-align:left;padding-right:1rem}</style></head><body>"
        f"<h1>Local outbox ({len(mail)} mail, newest first)</h1>{body}</body></html>"
    )
