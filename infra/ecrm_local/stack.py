"""`ecrm local`: moto in server mode, every topology resource, the API, pollers and the clock ticker."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ecrm.names import Resource

from ecrm_local import (
    LOG_NAME,
    moto_bounds,
    moto_direct,
    moto_dispatch,
    moto_dynamodb,
    moto_events,
    resources,
    ses_quota,
    ttl,
)

log = logging.getLogger(LOG_NAME)
TICK_SECONDS = 1.0
# How long a thread that wants the GIL waits before the running one must hand it over (Python's
# default is 5 ms). In AWS each function runs in its own process; here they share one interpreter,
# and a request thread woken by its answer waited up to 5 ms behind a busy sender at every step.
SWITCH_INTERVAL_S = 0.001
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_REAL_AWS_VARS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")


def use_local_aws(endpoint: str | None) -> None:
    """Point boto3 at moto with dummy credentials, before any handler builds a client."""
    for name in [*_REAL_AWS_VARS, *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL"))]:
        os.environ.pop(name, None)
    os.environ.update(DUMMY_CREDENTIALS, AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - compared, not bound


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    ses_send_rate: int = ses_quota.MAX_SEND_RATE
    outbox_retention: timedelta = ttl.OUTBOX_RETENTION
    root: Path = field(default_factory=Path.cwd)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _moto: Any = None
    _http: Any = None
    _serving: bool = False
    base_url: str = ""
    moto_endpoint: str = ""
    _saved: tuple[dict[str, str], timedelta, float] | None = None

    def start(self) -> None:
        from ecrm.clock import SYSTEM_CLOCK
        from moto.server import ThreadedMotoServer

        # The stack points this process at itself (env vars, the clock, the GIL's switch interval);
        # stop() puts them back, so a process that runs a stack and then something else (the
        # benchmarks do) is not left aiming at a stopped moto server.
        self._saved = (dict(os.environ), SYSTEM_CLOCK.offset, sys.getswitchinterval())
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        _one_request_at_a_time(self._moto)
        self._moto._server.block_on_close = False  # stopping must not wait for pooled boto connections
        moto_dynamodb.install()
        moto_events.install()
        moto_dispatch.install()
        moto_bounds.install()
        moto_host, moto_port = self._moto.get_host_and_port()
        self.moto_endpoint = f"http://{moto_host}:{moto_port}"
        moto_direct.install(self.moto_endpoint, lambda: self._moto._server.app)
        use_local_aws(self.moto_endpoint)
        self._build()

    def _build(self) -> None:
        import boto3
        from ecrm.clock import SYSTEM_CLOCK
        from ecrm_infra import topology

        from ecrm_local import (
            apigw,
            auth_tokens,
            lambdas,
            openapi,
            outbox,
            pollers,
            schedules,
            server,
            ses_events,
            streams,
        )

        self._http = server.LocalServer((self.host, self.port))
        self.base_url = f"http://{_url_host(self.host)}:{self._http.server_address[1]}"
        session = boto3.session.Session()
        os.environ.update(resources.function_env(resources.create_all(session, self.base_url)))
        context = resources.local_context(self.base_url)
        for fn in topology.FUNCTIONS:  # import errors surface now, not on the first request
            lambdas.handler_module(fn.name)
        outbox.install(SYSTEM_CLOCK)
        lambdas.metrics_per_thread()  # undone by stop()
        ses_quota.install(self.ses_send_rate)
        firing = schedules.Firing(session, SYSTEM_CLOCK)
        mail_events = ses_events.SesEventPublisher(session, SYSTEM_CLOCK, context["sesConfigurationSet"])
        events = session.client("events")
        bus = resources.physical_name(Resource.EVENT_BUS)
        spec_json = openapi.to_json(openapi.build_spec())
        self._http.app = server.LocalApp(
            routes=apigw.RouteTable(topology.routes()),
            token_key=auth_tokens.load_key(self.root),
            allowed_origins=context["allowedOrigins"].split(","),
            moto_endpoint=self.moto_endpoint,
            clock=SYSTEM_CLOCK,
            firing=firing,
            mail_events=mail_events,
            put_events=lambda entry: _put_events(events, bus, entry),
            openapi_json=lambda: spec_json,
        )
        self._threads += pollers.start_pollers(session, self._stop)
        self._threads += streams.start_stream_pollers(session, self._stop)
        self._threads.append(ttl.start_sweeper(SYSTEM_CLOCK.now, ttl.earlier_by(self.outbox_retention), self._stop))
        self._spawn("ticker", lambda: self._tick(firing, mail_events))
        self._spawn("http", self._http.serve_forever)
        self._serving = True

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _tick(self, firing: Any, mail_events: Any) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                mail_events.flush()
                firing.fire_due()
            except Exception:  # keep ticking; the next second may succeed
                log.exception("firing due schedules or SES events failed")

    def urls(self) -> dict[str, str]:
        return {
            "API": self.base_url,
            "Form": f"{self.base_url}/form",
            "Docs": f"{self.base_url}/docs",
            "Outbox": f"{self.base_url}/_local/outbox.html",
            "Health": f"{self.base_url}/_local/health",
            "moto": self.moto_endpoint,
        }

    def stop(self) -> None:
        self._stop.set()
        # Each HTTP server sees a shutdown at its next poll (every 0.5 s) and a queue poller at the
        # end of its long poll (1 s): all are asked at once rather than one after the other.
        # moto's server can go with them: this process's own calls reach moto without it.
        servers = [server] if (server := getattr(self._moto, "_server", None)) is not None else []
        if self._http is not None and self._serving:  # shutdown() would hang if serve_forever never ran
            servers.append(self._http)
        closers = [threading.Thread(target=server.shutdown, daemon=True) for server in servers]
        for closer in closers:
            closer.start()
        deadline = time.monotonic() + 5
        for thread in [*closers, *self._threads]:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._http is not None:
            self._http.server_close()
        moto_direct.uninstall()
        if self._moto is not None:
            self._moto.stop()
        from ecrm_local import lambdas

        lambdas.metrics_shared_again()
        if self._saved is not None:
            from ecrm.clock import SYSTEM_CLOCK

            environ, offset, switch_interval = self._saved
            os.environ.clear()
            os.environ.update(environ)
            SYSTEM_CLOCK.offset = offset
            sys.setswitchinterval(switch_interval)


def _one_request_at_a_time(moto: Any) -> None:
    """Serve each DynamoDB request to moto whole before the next, as DynamoDB applies each request
    atomically.

    moto's DynamoDB backend takes no lock, and with functions now running side by side
    (lambdas._LOCKS) two of them can reach it at once: a TransactWriteItems deep-copies the table
    (its rollback) while another request writes to it, and a cancelled one restores that copy over
    the other's write (decision 38: the tests serialize moto the same way). Only DynamoDB: a lock
    over every service would also be held through each poller's SQS long poll.
    """
    server = moto._server
    app, lock = server.app, moto_bounds.REQUESTS

    def serialized(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    server.app = serialized


def _put_events(client: Any, bus: str, entry: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = client.put_events(Entries=[{"EventBusName": bus, **entry}])
    answer.pop("ResponseMetadata", None)
    return answer
