"""e2e tier: `ecrm local` as a real subprocess, driven over HTTP (and in tests/e2e/test_local_browser.py
by Chromium). One stack per session (and one of its own for the API fuzzer, test_fuzz_api.py); each
must stop cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ecrm_local import auth_tokens
from ecrm_local.server import CONTROL_HEADER

from tests.grants import Call, Recorder

STARTUP_TIMEOUT_S = 30
# Low enough that a campaign of a few dozen mails takes seconds (the e2e tests watch the API answer
# meanwhile), high enough not to slow the other tests' few mails.
SES_SEND_RATE = 10


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Local:
    base: str
    moto: str
    key: bytes
    log: Path

    def token(self, role: str, email: str | None = None) -> str:
        return auth_tokens.mint(self.key, role, email)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        role: str | None = None,
        control: bool = True,
    ) -> Answer:
        """`control`: send the header local control routes require (tests of the refusal turn it off)."""
        headers = dict(headers or {})
        if control and path.startswith("/_local/"):
            headers.setdefault(*CONTROL_HEADER)
        if isinstance(body, dict):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        data = body.encode() if isinstance(body, str) else body
        if role:
            headers["Authorization"] = f"Bearer {self.token(role)}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with _OPENER.open(request, timeout=15) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, dict(err.headers), err.read())

    def wait_for(self, probe: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.call("GET", "/_local/outbox").json if address in m["to"]]

    def boto(self, service: str) -> Any:
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ecrm local exited with {proc.returncode} during start-up:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/_local/health", timeout=2) as response:  # noqa: S310 - http://127.0.0.1
                health: dict[str, Any] = json.loads(response.read())
                return health
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"ecrm local not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@contextlib.contextmanager
def running_stack(workdir: Path, recorder: Recorder) -> Iterator[Local]:
    """`ecrm local` in `workdir` (its .ecrm-local/signing.key stays out of the repo), its functions'
    AWS calls judged by their grants; stopped with SIGTERM, which it must survive cleanly. The calls
    it made join `recorder`'s (the session's record of what the grants were used for)."""
    port = _free_port()
    log = workdir / "ecrm-local.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # The repository on the path, for `tests.e2e.recorded_local`.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parents[2]), env.get("PYTHONPATH")]))
    grants = workdir / "grants.json"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.recorded_local",  # `ecrm local`, its functions' AWS calls judged by their grants
                str(grants),
                "local",
                "--port",
                str(port),
                "--ses-send-rate",
                str(SES_SEND_RATE),
            ],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    health = _wait_healthy(proc, base, log)
    try:
        yield Local(base=base, moto=health["moto"], key=auth_tokens.load_key(workdir), log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        code: int | None = None
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert code == 0, f"ecrm local did not stop cleanly on SIGTERM (exit {code}):\n{log.read_text()[-4000:]}"
    assert "ecrm local stopped" in log.read_text()
    recorded = json.loads(grants.read_text())
    recorder.calls.extend(Call(*row) for row in recorded["calls"])
    refused = "\n".join(recorded["refused"])
    assert not refused, f"AWS would refuse these calls: the functions' grants lack them\n{refused}"


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory, _aws_calls_recorded: Recorder) -> Iterator[Local]:
    """The stack the e2e tests share (one per session)."""
    with running_stack(tmp_path_factory.mktemp("ecrm-local"), _aws_calls_recorded) as stack:
        yield stack
