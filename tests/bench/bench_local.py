"""`make bench ONLY=local`: a campaign on the local stack (`ecrm local`, in this process), printed
as figures; nothing is asserted.

A campaign to BENCH_LOCAL_RECIPIENTS contacts (written straight to the Contacts table
   and announced, as capture would) is scheduled, the local clock moves past its start, and the
   bench counts the mail moto's SES accepts. Meanwhile a client keeps asking the API for the
   campaign (GET /campaigns/{id}, one DynamoDB read): the latency it sees is what a developer's
   page sees while a campaign sends.
The soak (requests for minutes, RSS sampled) is tests/bench/bench_soak.py (`make bench ONLY=soak`).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

RECIPIENTS = int(os.environ.get("BENCH_LOCAL_RECIPIENTS", "1000"))
TIMEOUT_S = float(os.environ.get("BENCH_LOCAL_TIMEOUT_S", "600"))
HTML = '<p>Hi {{ first_name | default("there") }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'


class Api:
    def __init__(self, base: str, key: bytes, headers: dict[str, str] | None = None) -> None:
        self.base, self.key, self.headers = base, key, headers or {}

    def call(self, method: str, path: str, body: Any = None, role: str | None = "marketer") -> tuple[int, Any]:
        from ecrm_local import auth_tokens

        headers = {"Content-Type": "application/json", **self.headers}
        if role:
            headers["Authorization"] = f"Bearer {auth_tokens.mint(self.key, role)}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - the local stack
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def ok(self, method: str, path: str, body: Any = None, role: str | None = "marketer") -> Any:
        status, answer = self.call(method, path, body, role)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {answer!r}")
        return answer


def seed(env: dict[str, str], n: int, tag: str) -> None:
    """`n` consented contacts with `tag`, written as capture writes them and announced on the bus."""
    import boto3
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm.events import ContactCaptured
    from ecrm.names import Env

    from tests.unit.campaigns.world import make_contact

    contacts = DynamoContacts(boto3.client("dynamodb"), env[Env.CONTACTS_TABLE])
    events = boto3.client("events")
    created = SYSTEM_CLOCK.now() - timedelta(days=1)
    entries = []
    for i in range(1, n + 1):
        contact = make_contact(i, email=f"r{i}-{tag}@example.org", tags=(tag,), company=None, created=created)
        contacts.create(contact, [])
        announced = ContactCaptured(occurred_at=created, contact_id=contact.id, tags=[tag])
        entries.append(
            {
                "Source": announced.source,
                "DetailType": announced.detail_type,
                "Detail": announced.model_dump_json(),
                "EventBusName": env[Env.EVENT_BUS],
            }
        )
    for start in range(0, len(entries), 10):
        events.put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]


def wait(probe: Any, what: str, timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


class Prober(threading.Thread):
    """Asks the API one thing after another until stopped; keeps each answer's latency."""

    def __init__(self, api: Api, path: str) -> None:
        super().__init__(daemon=True)
        self.api, self.path = api, path
        self.samples: list[float] = []
        self.failed = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.perf_counter()
            status, _ = self.api.call("GET", self.path)
            self.samples.append(time.perf_counter() - started)
            self.failed += status != 200
            self.halt.wait(0.05)


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def campaign(api: Api, env: dict[str, str], out: list[str]) -> None:
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm_local import outbox

    tag = f"bench{os.urandom(3).hex()}"
    started = time.perf_counter()
    seed(env, RECIPIENTS, tag)
    mail = {"name": tag, "subject": f"Bench {tag}", "html": HTML, "text": "{{ unsubscribe_url }}"}
    template = api.ok("POST", "/templates", mail)
    rules = {"include": [{"kind": "tag", "any_of": [tag]}]}
    segment = api.ok("POST", "/segments", {"name": tag, "rules": rules})
    wait(
        lambda: api.ok("GET", f"/segments/{segment['id']}/count")["count"] == RECIPIENTS,
        "the segment to hold every contact",
    )
    seeded = time.perf_counter() - started
    at = (SYSTEM_CLOCK.now() + timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    body = {"name": tag, "template_id": template["id"], "segment_id": segment["id"]}
    created = api.ok("POST", "/campaigns", {**body, "schedule": {"kind": "one_off", "at": at}})
    api.ok("POST", f"/campaigns/{created['id']}/schedule")
    prober = Prober(api, f"/campaigns/{created['id']}")
    prober.start()
    time.sleep(2)  # latency before the send starts: the baseline
    idle = list(prober.samples)
    before = outbox.total()
    sending = time.perf_counter()
    api.ok("POST", "/_local/clock", {"advance_seconds": 3601}, role=None)
    first: float | None = None
    while outbox.total() - before < RECIPIENTS and time.perf_counter() - sending < TIMEOUT_S:
        if first is None and outbox.total() > before:
            first = time.perf_counter()
        time.sleep(0.05)
    done = time.perf_counter()
    prober.halt.set()
    prober.join()
    busy = prober.samples[len(idle) :]
    sent = outbox.total() - before
    elapsed = done - sending
    out.append(f"\n== a {RECIPIENTS}-recipient campaign on the local stack (seeded in {seeded:.0f} s)")
    out.append(f"mail accepted by moto's SES: {sent} in {elapsed:.1f} s after the clock moved")
    if first is not None:
        out.append(f"send rate: {sent / max(done - first, 1e-9):.1f} mails/s from the first mail to the last")
    out.append(f"{'GET /campaigns/{id}':24} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7}")
    for label, samples in (("before the send", idle), ("while sending", busy)):
        p50, p99 = _pct(samples, 50) * 1000, _pct(samples, 99) * 1000
        failed = prober.failed if label == "while sending" else 0
        out.append(
            f"{label:24} {len(samples):6d} {p50:8.1f} {p99:8.1f} {max(samples, default=0) * 1000:8.1f} {failed:7d}"
        )
    if idle and busy:
        out.append(
            f"{'ratio while / before':24} {'':6} {_pct(busy, 50) / _pct(idle, 50):7.1f}x {_pct(busy, 99) / _pct(idle, 99):7.1f}x"
        )


def on_a_local_stack(name: str, run: Callable[[Api, list[str]], None], **stack_args: Any) -> None:
    """Start `ecrm local` in this process (LocalStack's `stack_args`), run `run(api, out)` against
    it, stop it; then print `out` (the handlers' output is silenced meanwhile) and how long
    stopping took."""
    from ecrm_local import auth_tokens
    from ecrm_local.server import CONTROL_HEADER
    from ecrm_local.stack import LocalStack

    from tests.bench.sink import quiet

    root = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    stack = LocalStack(port=0, root=root, **stack_args)
    out: list[str] = []
    with quiet():
        stack.start()
        try:
            run(Api(stack.base_url, auth_tokens.load_key(root), dict([CONTROL_HEADER])), out)
        finally:
            stopping = time.perf_counter()
            stack.stop()
            out.append(f"the stack stopped in {time.perf_counter() - stopping:.1f} s")
    print("\n".join(out))


def main() -> None:
    on_a_local_stack("local", lambda api, out: campaign(api, dict(os.environ), out))
