"""The HTTP side of `ecrm local`: the API routes as API Gateway serves them, plus local-only pages."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecrm.clock import SystemClock

from ecrm_local import LOG_NAME, apigw, auth_tokens, lambdas, outbox, webhook_deliveries
from ecrm_local.schedules import Firing
from ecrm_local.ses_events import SesEventPublisher, UnknownMail
from ecrm_local.usage_plans import UsagePlans

log = logging.getLogger(f"{LOG_NAME}.server")
DRAIN_LIMIT = 64 * 1024 * 1024
IDLE_SECONDS = 15
STATIC = Path(__file__).parent / "static"  # package data (pyproject: ecrm_local = ["static/*"])
JSON = "application/json"
HTML = "text/html; charset=utf-8"
# Local control routes (POST /_local/...) need this header. A web page on another origin can POST
# to localhost with a "simple" request (text/plain, no preflight); a custom header forces a CORS
# preflight, which the local routes never grant, so a page a developer visits cannot move the
# clock, put events or fake opens. Tools (curl, the tests) just send it.
CONTROL_HEADER = ("X-Ecrm-Local", "1")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass
class LocalApp:
    """What the request handler needs from the running stack."""

    routes: apigw.RouteTable
    token_key: bytes
    allowed_origins: list[str]
    moto_endpoint: str
    clock: SystemClock
    firing: Firing
    mail_events: SesEventPublisher
    put_events: Callable[[dict[str, Any]], dict[str, Any]]
    openapi_json: Callable[[], str]
    usage_plans: UsagePlans = field(default_factory=UsagePlans)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, value: Any) -> Reply:
    return Reply(status, json.dumps(value, default=str).encode())


def bad_request(field: str, message: str) -> Reply:
    return json_reply(400, {"message": "request is not valid", "errors": [{"field": field, "message": message}]})


def static(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def swagger_asset(name: str) -> bytes | None:
    """Swagger UI's files from the swagger-ui-py package (found, not imported: it pulls in jinja2)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / name
    return path.read_bytes() if path.is_file() and "/" not in name else None


class Handler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection (a browser tab, a fuzzer that never closes) held its thread
    # forever: threads piled up, and stopping waited for each client to hang up.
    timeout = IDLE_SECONDS

    # --- plumbing --------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > apigw.MAX_PAYLOAD_BYTES:
            self._discard(length)
            self._send(json_reply(413, {"message": "Request Too Long"}))
            return
        body = self.rfile.read(length) if length else b""
        local = LOCAL_ROUTES.get((self.command, url.path))
        refused = self._local_refusal() if url.path.startswith("/_local/") else None
        if refused is not None:
            self._send(refused)
        elif local is not None:
            self._send(local(self.server.app, body))
        elif self.command == "GET" and url.path.startswith("/docs/"):
            self._send(self._asset(url.path.removeprefix("/docs/")))
        else:
            self._send(self._api(url.path, url.query, body))

    def _local_refusal(self) -> Reply | None:
        """/_local/* is for this machine: a loopback client, a loopback Host (a DNS-rebound name is
        not), no foreign Origin, and for anything but GET the control header."""
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            return json_reply(403, {"message": "local routes answer this machine only"})
        host = urlsplit(f"//{self.headers.get('Host') or ''}").hostname
        if host not in LOOPBACK_NAMES:
            return json_reply(403, {"message": "local routes answer localhost, 127.0.0.1 or [::1] only"})
        origin = self.headers.get("Origin")
        if origin is not None and not self._own_origin(origin):
            return json_reply(403, {"message": "local routes refuse other origins"})
        name, value = CONTROL_HEADER
        if self.command not in ("GET", "HEAD") and self.headers.get(name) != value:
            return json_reply(403, {"message": f"local control routes need the header {name}: {value}"})
        return None

    def _own_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            return parts.hostname in LOOPBACK_NAMES and parts.port == self.server.server_address[1]
        except ValueError:
            return False

    def _discard(self, length: int) -> None:
        """Read (and drop) an oversized body, so the client gets our 413 rather than a broken pipe."""
        self.close_connection = True
        remaining = length if length <= DRAIN_LIMIT else 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        names = {n.lower() for n, _ in reply.headers}
        if "content-type" not in names and (reply.body or reply.status != 204):
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _asset(self, name: str) -> Reply:
        if name == "swagger-init.js":
            return Reply(200, static(name), "text/javascript")
        data = swagger_asset(name)
        if data is None:
            return json_reply(404, {"message": "Not Found"})
        return Reply(200, data, "text/css" if name.endswith(".css") else "text/javascript")

    # --- the API, as API Gateway fronts it --------------------------------------------------
    def _api(self, path: str, query: str, body: bytes) -> Reply:
        app = self.server.app
        if self.command == "OPTIONS" and app.routes.methods(path):
            origin = self.headers.get("Origin") or ""
            allow = apigw.preflight_headers(origin, app.allowed_origins, app.routes.methods(path))
            return Reply(204, headers=tuple(allow))
        match = app.routes.match(self.command, path)
        if match is None:
            return json_reply(403, {"message": "Missing Authentication Token"})
        pairs = list(self.headers.items())
        claims = None
        if not match.route.public:
            claims = self._claims(pairs, match.route.scopes if match.machine else ())
            if claims is None:  # the authorizer answers; the function is never invoked
                return json_reply(401, {"message": "Unauthorized"})
        if match.machine:
            refused = self._usage_plan(pairs)
            if refused is not None:
                return refused
        request = apigw.Request(self.command, path, query, pairs, body, self.client_address[0])
        try:
            result = lambdas.invoke(match.function.name, apigw.build_event(request, match, claims))
            status, headers, raw = apigw.response_parts(result)
        except Exception:
            log.error("%s failed:\n%s", match.function.name, traceback.format_exc())
            return json_reply(502, {"message": "Internal server error"})
        return Reply(status, raw, headers=tuple(headers))

    def _claims(self, headers: list[tuple[str, str]], scopes: tuple[str, ...]) -> dict[str, str] | None:
        """The claims the Cognito authorizer passes on, or None: no token, not a valid one, or not the
        kind the method takes (an ID token without scopes, an access token with one of them)."""
        token = apigw.bearer_token(headers)
        if token is None:
            return None
        try:
            claims = auth_tokens.verify(self.server.app.token_key, token)
        except auth_tokens.InvalidToken:
            return None
        return auth_tokens.authorizer_claims(claims) if auth_tokens.accepted_by(claims, scopes) else None

    def _usage_plan(self, headers: list[tuple[str, str]]) -> Reply | None:
        """API Gateway's API key check and the client's usage plan: 403 without a valid key, 429
        over its rate and burst."""
        presented = next((value for name, value in headers if name.lower() == "x-api-key"), "")
        client = auth_tokens.client_of_api_key(self.server.app.token_key, presented)
        if client is None:
            return json_reply(403, {"message": "Forbidden"})
        if not self.server.app.usage_plans.admit(client):
            return json_reply(429, {"message": "Too Many Requests"})
        return None


# --- local-only routes ---------------------------------------------------------------------
def _form(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, static("form.html"), HTML)


def _thanks(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, static("thanks.html"), HTML)


def _health(app: LocalApp, body: bytes) -> Reply:
    return json_reply(200, {"ok": True, "moto": app.moto_endpoint})


def _outbox(app: LocalApp, body: bytes) -> Reply:
    return json_reply(200, outbox.messages())


def _outbox_html(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, outbox.render_html(outbox.messages()).encode(), HTML)


def _webhooks(app: LocalApp, body: bytes) -> Reply:
    return json_reply(200, webhook_deliveries.snapshot())


def _webhooks_html(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, webhook_deliveries.render_html(webhook_deliveries.snapshot()).encode(), HTML)


def _outbox_js(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, static("outbox.js"), "text/javascript")


def _openapi(app: LocalApp, body: bytes) -> Reply:
    return Reply(200, app.openapi_json().encode())


def _docs(app: LocalApp, body: bytes) -> Reply:
    if swagger_asset("swagger-ui-bundle.js") is None:
        return Reply(200, _plain_docs(json.loads(app.openapi_json())).encode(), HTML)
    return Reply(200, static("docs.html"), HTML)


def _plain_docs(spec: dict[str, Any]) -> str:
    """A readable list of operations when Swagger UI's package is not installed."""
    import html

    items = "".join(
        f"<li><code>{html.escape(method.upper())} {html.escape(path)}</code> {html.escape(op.get('summary', ''))}</li>"
        for path, ops in sorted(spec.get("paths", {}).items())
        for method, op in ops.items()
    )
    return f"<!doctype html><title>eCRM API</title><h1>eCRM API</h1><ul>{items}</ul><a href='/openapi.json'>JSON</a>"


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _clock(app: LocalApp, body: bytes) -> Reply:
    request = _json_object(body)
    if request is None:
        return bad_request("body", "must be a JSON object")
    seconds = request.get("advance_seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        return bad_request("advance_seconds", "a number of seconds >= 0 is required")
    fired = app.firing.advance(seconds)
    app.mail_events.flush()
    return json_reply(200, {"now": app.clock.now().isoformat(), "fired": [f.as_json() for f in fired]})


def _events(app: LocalApp, body: bytes) -> Reply:
    entry = _json_object(body)
    if entry is None:
        return bad_request("body", "must be one PutEvents entry as a JSON object")
    for name in ("Source", "DetailType", "Detail"):
        if entry.get(name) in (None, ""):
            return bad_request(name, "is required")
    if not isinstance(entry["Detail"], str):
        entry["Detail"] = json.dumps(entry["Detail"])
    return json_reply(200, app.put_events(entry))


def _engage(app: LocalApp, body: bytes) -> Reply:
    """A recipient opens a mail, or clicks one of its links: SES's Open / Click event, on demand."""
    request = _json_object(body)
    if request is None:
        return bad_request("body", "must be a JSON object")
    message_id, kind, link = request.get("message_id"), request.get("kind"), request.get("link")
    if not isinstance(message_id, str) or not message_id:
        return bad_request("message_id", "the SES message id of a mail in the outbox is required")
    if kind not in ("open", "click"):
        return bad_request("kind", "must be 'open' or 'click'")
    if kind == "click" and (not isinstance(link, str) or not link.startswith(("http://", "https://"))):
        return bad_request("link", "the http(s) link clicked is required")
    try:
        answer = app.mail_events.engage(message_id, kind.capitalize(), link if kind == "click" else None)
    except UnknownMail:
        return json_reply(404, {"message": "no mail with that message_id in the outbox"})
    return json_reply(200, answer)


LOCAL_ROUTES: dict[tuple[str, str], Callable[[LocalApp, bytes], Reply]] = {
    ("GET", "/"): _form,
    ("GET", "/form"): _form,
    ("GET", "/_local/thanks"): _thanks,
    ("GET", "/_local/health"): _health,
    ("GET", "/_local/outbox"): _outbox,
    ("GET", "/_local/outbox.html"): _outbox_html,
    ("GET", "/_local/outbox.js"): _outbox_js,
    ("GET", "/_local/webhooks"): _webhooks,
    ("GET", "/_local/webhooks.html"): _webhooks_html,
    ("POST", "/_local/clock"): _clock,
    ("POST", "/_local/events"): _events,
    ("POST", "/_local/outbox/engage"): _engage,
    ("GET", "/openapi.json"): _openapi,
    ("GET", "/docs"): _docs,
}


class LocalServer(ThreadingHTTPServer):
    """Bound first (so the real port is known when resources are created), given its app after."""

    daemon_threads = True
    # socketserver's default backlog is 5: a burst of clients (50 at once from a test or a fuzzer)
    # overflowed it and the kernel reset the connections it could not queue.
    request_queue_size = 128
    # server_close() joined every connection's thread: SIGTERM waited for idle keep-alive clients.
    block_on_close = False
    app: LocalApp

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
