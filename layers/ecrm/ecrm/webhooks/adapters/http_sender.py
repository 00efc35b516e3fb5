"""POSTs over the standard library's http.client, to the address the SSRF check approved: the
connection goes to that address, while TLS (SNI, certificate) and the Host header use the URL's
host name, so a DNS answer that changed since the check cannot redirect the request. No redirects
are followed (a 3xx is a failed attempt): a redirect could point anywhere."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ecrm.webhooks.ports import PostResult

READ_LIMIT = 2048  # of the answer's body: the log keeps an excerpt


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max((at - now).total_seconds(), 0.0)


def _printable(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return "".join(ch if ch.isprintable() else " " for ch in text)


class HttpSender:
    def post(self, url: str, address: str, headers: dict[str, str], body: str, timeout_seconds: float) -> PostResult:
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kind = _PinnedHTTPS if secure else _PinnedHTTP
        connection = kind(host, port, address, timeout_seconds)
        started = time.monotonic()
        try:
            connection.request("POST", target, body=body.encode(), headers=headers)
            answer = connection.getresponse()
            excerpt = _printable(answer.read(READ_LIMIT))
            waited = retry_after(answer.getheader("Retry-After"), datetime.now(UTC))
            return PostResult(answer.status, _ms(started), waited, excerpt)
        except TimeoutError:
            return PostResult(None, _ms(started), error=f"no answer within {timeout_seconds:g} s")
        except (OSError, http.client.HTTPException) as exc:
            return PostResult(None, _ms(started), error=f"{type(exc).__name__}: connection failed")
        finally:
            connection.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
