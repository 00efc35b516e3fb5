"""`make bench ONLY=imports`: bulk CSV import and export, printed as figures; nothing is asserted.

What runs for real and what is simulated (the output says it again):
- On moto (`BENCH_IMPORT_MOTO_ROWS`, 150 by default: a few minutes on a shared machine): the shipped handlers and adapters end to end.
  A file uploaded through its presigned URL, started through the API, validated and applied by the
  import worker from the SQS queue; against it, as many single form captures (POST /contacts through
  the capture handler) of other addresses, in the same process and moto, one after the other.
- At 100,000 rows (`BENCH_IMPORT_ROWS`): moto would take far longer than the few minutes a bench may
  (every capture is five to eight moto requests), so the shipped `ImportRunner` and `ContactCapture`
  run over in-memory ports: the contacts fake the unit tests use (tests/unit/fakes.py), a bytes
  file store answering ranged reads, a list for the queue. Against it, the same number of single
  captures through `ContactCapture.capture` on the same kind of fake. This measures our code: CSV
  reading, validation, the capture rules, the steps; not DynamoDB.
- Peak memory (tracemalloc, Python allocations) of the validation pass and of the largest apply step,
  for two file sizes: bounded by the chunk and the step, not the file. For the apply steps the
  contacts fake starts empty at each step, so its own dicts growing with the file are not counted.
- Export of 100,000 contacts: the shipped `ExportRunner` over the same fake (its feed sorted once,
  as the index is), the CSV counted and dropped by the store (a multipart upload of it is what the
  integration test runs on moto); against it, the same contacts written bare with csv.writer.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import os
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from ecrm.clock import SystemClock
from ecrm.contacts import feed
from ecrm.contacts.models import CaptureRequest, Contact, Erasure
from ecrm.contacts.service import ContactCapture, ContactDirectory
from ecrm.errors import Conflict
from ecrm.imports.exports import ExportRunner
from ecrm.imports.models import ExportJob, ExportStep, ImportJob, ImportStep
from ecrm.imports.names import Resource
from ecrm.imports.ports import FileStat
from ecrm.imports.service import ImportLimits, ImportRunner

from tests.bench.sink import quiet
from tests.support import moto_stack
from tests.unit.campaigns.fakes import MemoryIndex, MemoryRepo
from tests.unit.fakes import MemoryContacts

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
MOTO_ROWS = int(os.environ.get("BENCH_IMPORT_MOTO_ROWS", "150"))
SMALL = ROWS * 3 // 10  # both sizes above the chunk: the file is read in chunks in both
MAX_BYTES = 1 << 31


def csv_file(rows: int, prefix: str = "p") -> bytes:
    lines = ["email;first_name;last_name;tags;custom.shoe_size;consent_source;consent_at"]
    for n in range(rows):
        proof = ("shop", "2024-03-01T10:00:00Z") if n % 2 else ("", "")
        lines.append(f"{prefix}{n}@example.com;First{n};Last {n};vip|t{n % 50};{n % 12 + 36};{proof[0]};{proof[1]}")
    return ("\r\n".join(lines) + "\r\n").encode()


class BytesFiles:
    """A file store in memory: ranged reads are slices (one chunk copied at a time)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.streamed = 0

    def upload_url(self, key: str, size_bytes: int, content_type: str, expires_in: int) -> tuple[str, dict[str, str]]:
        return f"memory://{key}", {}

    def download_url(self, key: str, expires_in: int) -> str:
        return f"memory://{key}"

    def stat(self, key: str) -> FileStat | None:
        return FileStat(len(self.objects[key]), "v1") if key in self.objects else None

    def read(self, key: str, start: int, chunk_bytes: int, version: str) -> Iterator[bytes]:
        data = self.objects[key]
        for offset in range(start, len(data), chunk_bytes):
            yield data[offset : offset + chunk_bytes]

    def write(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body

    def write_stream(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        self.streamed = sum(len(chunk) for chunk in chunks)  # counted, then dropped


class Jobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Any] = {}

    def create(self, job: Any) -> None:
        self.jobs[job.id] = job

    def get(self, job_id: str) -> Any:
        return self.jobs.get(job_id)

    def save(self, job: Any, expected_version: int) -> None:
        if self.jobs[job.id].version != expected_version:
            raise Conflict(job.id)
        self.jobs[job.id] = job


class Steps:
    def __init__(self) -> None:
        self.steps: list[ImportStep] = []

    def send(self, step: Any, delay_seconds: int = 0) -> None:
        self.steps.append(step)


def memory_import(data: bytes, peaks: bool = False) -> tuple[float, dict[str, int], MemoryContacts, Any]:
    """Seconds to validate and apply `data`; with `peaks`, the tracemalloc peaks (bytes) of the
    validation and of the largest apply step instead of a meaningful time."""
    clock = SystemClock()
    files, jobs, steps, contacts = BytesFiles(), Jobs(), Steps(), MemoryContacts()
    files.objects["f"] = data
    now = datetime.now(UTC)
    jobs.create(
        ImportJob(id="i", state="validating", created_at=now, updated_at=now, size_bytes=len(data), file_key="f")
    )
    runner = ImportRunner(jobs, files, steps, ContactCapture(contacts, clock, "v1"), clock, ImportLimits(MAX_BYTES))
    peak = {"validate": 0, "apply_step": 0}
    steps.steps.append(ImportStep(import_id="i", phase="validate"))
    started = time.perf_counter()
    while steps.steps:
        step = steps.steps.pop(0)
        if peaks:
            contacts = MemoryContacts()  # the fake's growth with the file is not the step's
            capture = ContactCapture(contacts, clock, "v1")
            runner = ImportRunner(jobs, files, steps, capture, clock, ImportLimits(MAX_BYTES))
            tracemalloc.start()
        runner.run(step)
        if peaks:
            _, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            name = "validate" if step.phase == "validate" else "apply_step"
            peak[name] = max(peak[name], top)
    return time.perf_counter() - started, peak, contacts, jobs.get("i")


def memory_singles(rows: int) -> float:
    """The same rows as single captures: each body validated (as a form post's is), then captured."""
    capture = ContactCapture(MemoryContacts(), SystemClock(), "v1")
    bodies = [
        {
            "email": f"s{n}@example.com",
            "first_name": f"First{n}",
            "last_name": f"Last {n}",
            "tags": f"vip,t{n % 50}",
            "custom": {"shoe_size": str(n % 12 + 36)},
            "form_id": "import",
        }
        for n in range(rows)
    ]
    started = time.perf_counter()
    for body in bodies:
        capture.capture(CaptureRequest.model_validate(body), None)
    return time.perf_counter() - started


class SortedFeed(MemoryContacts):
    """The fake with its feed sorted once, as the feed index is, rather than at every page."""

    def __init__(self, contacts: MemoryContacts) -> None:
        super().__init__()
        self.contacts = contacts.contacts
        self._placed = sorted((feed.position(c.updated_at, c.id), c) for c in self.contacts.values())
        self._keys = [position for position, _ in self._placed]

    def changes(self, window: feed.Window, limit: int) -> list[tuple[str, Contact | Erasure]]:
        start = bisect.bisect_right(self._keys, window.after)
        return [p for p in self._placed[start : start + limit] if p[0] < window.before]


def bare_csv(contacts: MemoryContacts) -> float:
    """The baseline: the same contacts written with csv.writer, no directory, no paging, no escaping."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    started = time.perf_counter()
    for c in contacts.contacts.values():
        writer.writerow(
            [
                c.id,
                c.email,
                c.first_name,
                c.last_name,
                c.phone,
                c.company,
                "|".join(c.tags),
                json.dumps(c.custom),
                c.consent.status,
                c.consent.confirmed_at,
                c.created_at.isoformat(),
                c.updated_at.isoformat(),
            ]
        )
        if out.tell() > 1 << 20:
            out.seek(0)
            out.truncate()
    return time.perf_counter() - started


def memory_export(contacts: MemoryContacts) -> tuple[float, int, int, int]:
    contacts = SortedFeed(contacts)
    files, jobs = BytesFiles(), Jobs()
    now = datetime.now(UTC)
    jobs.create(ExportJob(id="e", created_at=now, updated_at=now, file_key="x"))
    clock = SystemClock()
    clock.offset = timedelta(minutes=1)  # the feed answers changes up to a few seconds ago
    # segments are not exported here (their plan is the campaigns bench's): empty stores
    runner = ExportRunner(jobs, files, ContactDirectory(contacts, clock), MemoryRepo(), MemoryIndex(), clock)
    tracemalloc.start()
    started = time.perf_counter()
    runner.run(ExportStep(export_id="e"))
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, jobs.get("e").rows, files.streamed, peak


def moto_rates(rows: int) -> tuple[float, float, dict[str, Any]]:
    data = csv_file(rows, "m")
    with moto_stack() as stack:
        stack.auto_relay = False
        created = stack.call("POST", "/imports", {"size_bytes": len(data)}, roles="marketer").json
        requests.put(created["upload_url"], data=data, headers=created["upload_headers"], timeout=60)
        started = time.perf_counter()
        stack.call("POST", f"/imports/{created['id']}/start", roles="marketer")
        while stack.deliver(Resource.IMPORT_QUEUE):
            pass
        stack.relay()
        imported = time.perf_counter() - started
        job = stack.call("GET", f"/imports/{created['id']}", roles="marketer").json
        started = time.perf_counter()
        for n in range(rows):
            body = {
                "email": f"single{n}@example.com",
                "first_name": f"First{n}",
                "last_name": f"Last {n}",
                "tags": ["vip", f"t{n % 50}"],
                "custom": {"shoe_size": str(n % 12 + 36)},
            }
            stack.call("POST", "/contacts", body)
        stack.relay()
        singles = time.perf_counter() - started
    return imported, singles, job


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def main() -> None:
    print(__doc__.split("\n\n", 1)[1].rstrip() if __doc__ else "")
    with quiet():
        imported, singles, job = moto_rates(MOTO_ROWS)
    print(
        f"\non moto, {MOTO_ROWS:,} rows: import {MOTO_ROWS / imported:,.0f} rows/s ({imported:.1f} s, "
        f"created {job['created']:,}), single captures {MOTO_ROWS / singles:,.0f}/s ({singles:.1f} s): "
        f"import/single = {singles / imported:.2f}x"
    )
    big = csv_file(ROWS)
    seconds, _, contacts, done = memory_import(big)
    single = memory_singles(ROWS)
    print(
        f"in memory, {ROWS:,} rows ({_mib(len(big))}): import {ROWS / seconds:,.0f} rows/s ({seconds:.1f} s, "
        f"state {done.state}, created {done.created:,}), single captures {ROWS / single:,.0f}/s ({single:.1f} s): "
        f"import/single = {single / seconds:.2f}x"
    )
    for rows in (SMALL, ROWS):
        data = csv_file(rows)
        _, peak, _, _ = memory_import(data, peaks=True)
        print(
            f"peak memory, {rows:>7,} rows ({_mib(len(data)):>9}): validation {_mib(peak['validate'])}, "
            f"largest apply step ({ImportLimits(MAX_BYTES).step_rows:,} rows) {_mib(peak['apply_step'])} "
            f"(chunk {_mib(ImportLimits(MAX_BYTES).chunk_bytes)})"
        )
    seconds, rows_out, size, export_peak = memory_export(contacts)
    bare = bare_csv(contacts)
    print(
        f"export, {rows_out:,} contacts: {rows_out / seconds:,.0f} contacts/s ({seconds:.1f} s), "
        f"{_mib(size)} of CSV, peak {_mib(export_peak)} (the ids seen, and one page); bare csv.writer "
        f"{rows_out / bare:,.0f}/s: export/bare = {bare / seconds:.2f}x"
    )
