"""Bulk import of contacts from CSV: jobs made and read through the API, run by the worker.

A job validates the whole file first and applies nothing when the file is unreadable anywhere
(decision 89), then applies its rows through the contacts' capture rules in steps, each from the
job's checkpoint (byte offset): a crashed or repeated step continues where the last saved one ended,
and a row applied twice changes nothing the second time (ecrm.contacts.service.ContactCapture).
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ecrm.clock import Clock
from ecrm.contacts.service import ContactCapture
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.imports import csvfile, rows
from ecrm.imports.errors import FileReplaced, MalformedFile
from ecrm.imports.exports import ExportJobs
from ecrm.imports.models import (
    UPLOAD_CONTENT_TYPE,
    ImportCreated,
    ImportJob,
    ImportRequest,
    ImportStep,
    ImportView,
)
from ecrm.imports.ports import FileStore, ImportQueue, ImportRepository

URL_TTL_SECONDS = 900
REPORT_LIMIT = 10_000  # rejected rows listed in a report; more are counted, not listed
MAX_DELAY_SECONDS = 900  # SQS's longest delay
_REPLACED = MalformedFile(0, "the file was uploaded again after the import started: import it as a new one")


def new_import_id() -> str:
    return f"imp_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    chunk_bytes: int = 1024 * 1024
    step_rows: int = 1000  # rows one worker step applies before saving its checkpoint
    opt_in_per_second: float = 10.0


class ImportJobs:
    """The API's side: make a job and its upload URL, start it once uploaded, read it."""

    def __init__(
        self,
        jobs: ImportRepository,
        files: FileStore,
        queue: ImportQueue,
        clock: Clock,
        limits: ImportLimits,
        ids: Callable[[], str] = new_import_id,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._queue = queue
        self._clock = clock
        self._limits = limits
        self._ids = ids

    def create(self, request: ImportRequest, actor: str | None) -> ImportCreated:
        if request.size_bytes > self._limits.max_bytes:
            raise InvalidInput("size_bytes", f"at most {self._limits.max_bytes} bytes", status=422)
        now = self._clock.now()
        import_id = self._ids()
        job = ImportJob(
            id=import_id,
            created_at=now,
            updated_at=now,
            created_by=actor,
            size_bytes=request.size_bytes,
            file_key=f"imports/{import_id}/upload.csv",
        )
        self._jobs.create(job)
        url, headers = self._files.upload_url(job.file_key, job.size_bytes, UPLOAD_CONTENT_TYPE, URL_TTL_SECONDS)
        return ImportCreated(
            id=import_id,
            state=job.state,
            upload_url=url,
            upload_headers=headers,
            expires_in_seconds=URL_TTL_SECONDS,
            max_bytes=self._limits.max_bytes,
        )

    def start(self, import_id: str) -> ImportView:
        """Queue the job's validation once its file is there; a job already started is answered as it is."""
        job = self._job(import_id)
        if job.state != "awaiting_upload":
            return self._view(job)
        stat = self._files.stat(job.file_key)
        if stat is None:
            raise Conflict("no file was uploaded for this import yet")
        if stat.size != job.size_bytes:
            raise InvalidInput("size_bytes", f"the upload holds {stat.size} bytes, not the {job.size_bytes} declared")
        started = job.model_copy(
            update={
                "state": "validating",
                "file_version": stat.version,
                "updated_at": self._clock.now(),
                "version": job.version + 1,
            }
        )
        try:
            self._jobs.save(started, job.version)
        except Conflict:
            return self._view(self._job(import_id))  # started meanwhile by a repeated request
        self._queue.send(ImportStep(import_id=import_id, phase="validate"))
        return self._view(started)

    def get(self, import_id: str) -> ImportView:
        return self._view(self._job(import_id))

    def _job(self, import_id: str) -> ImportJob:
        job = self._jobs.get(import_id)
        if job is None:
            raise NotFound("import")
        return job

    def _view(self, job: ImportJob) -> ImportView:
        report = self._files.download_url(job.report_key, URL_TTL_SECONDS) if job.report_key else None
        return ImportView(
            id=job.id,
            state=job.state,
            created_at=job.created_at,
            updated_at=job.updated_at,
            rows_read=job.rows,
            applied=job.applied,
            created=job.created,
            merged=job.merged,
            rejected=job.rejected,
            opt_in_requests=job.opt_in_requests,
            error=job.error,
            report_url=report,
        )


class ImportRunner:
    """The worker: one step of one job per message, each ending in a saved checkpoint."""

    def __init__(
        self,
        jobs: ImportRepository,
        files: FileStore,
        queue: ImportQueue,
        capture: ContactCapture,
        clock: Clock,
        limits: ImportLimits,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._queue = queue
        self._capture = capture
        self._clock = clock
        self._limits = limits

    def run(self, step: ImportStep) -> str:
        """The step's outcome: Validated, Failed, Applied, Done, or Stale (a step already taken)."""
        job = self._jobs.get(step.import_id)
        if job is None:
            return "Stale"
        if step.phase == "validate":
            return self._validate(job) if job.state == "validating" else "Stale"
        if job.state != "applying" or job.offset != step.offset:
            return "Stale"  # a repeated message: its step was saved, or another copy is taking it
        return self._apply(job)

    def _chunks(self, job: ImportJob, start: int, chunk_bytes: int = 0) -> Iterator[bytes]:
        """The upload from `start`, as it was when the import started (FileReplaced otherwise)."""
        return self._files.read(job.file_key, start, chunk_bytes or self._limits.chunk_bytes, job.file_version or "")

    def _validate(self, job: ImportJob) -> str:
        """Read the whole file: an unreadable file fails with nothing applied; rows that cannot be
        contacts are listed in the report and skipped; the rest are applied from the header on."""
        report = _Report()
        try:
            header, delimiter, after = self._header(job)
            count = 0
            for record in csvfile.records(self._chunks(job, after.end), delimiter, after.end, after.lines):
                count += 1
                parsed = rows.parse(header, record, job.created_at)
                if isinstance(parsed, rows.Rejected):
                    report.add(parsed.line, parsed.reason)
        except MalformedFile as exc:
            return self._fail(job, exc, report)
        except FileReplaced:
            return self._fail(job, _REPLACED, report)
        key = self._write_report(job, report)
        done = count == report.count
        validated = job.model_copy(
            update={
                "state": "done" if done else "applying",
                "delimiter": delimiter,
                "columns": list(header.columns),
                "offset": after.end,
                "lines": after.lines,
                "rows": count,
                "rejected": report.count,
                "report_key": key,
                "updated_at": self._clock.now(),
                "version": job.version + 1,
            }
        )
        if not self._saved(validated, job):
            return "Stale"
        if not done:
            self._queue.send(ImportStep(import_id=job.id, phase="apply", offset=after.end))
        return "Validated"

    def _header(self, job: ImportJob) -> tuple[rows.Header, str, csvfile.Record]:
        stat = self._files.stat(job.file_key)
        if stat is None or stat.size > self._limits.max_bytes:
            raise MalformedFile(0, f"the file is missing or larger than {self._limits.max_bytes} bytes")
        first = next(self._chunks(job, 0, min(self._limits.chunk_bytes, csvfile.MAX_RECORD_BYTES)), b"")
        delimiter = csvfile.sniff(first.split(b"\n", 1)[0])
        header_record = next(csvfile.records(self._chunks(job, 0), delimiter), None)
        if header_record is None:
            raise MalformedFile(1, "the file is empty: no header row")
        return rows.Header.of(header_record), delimiter, header_record

    def _fail(self, job: ImportJob, exc: MalformedFile, report: _Report) -> str:
        report.add(exc.line, exc.reason)
        failed = job.model_copy(
            update={
                "state": "failed",
                "error": str(exc),
                "report_key": self._write_report(job, report),
                "updated_at": self._clock.now(),
                "version": job.version + 1,
            }
        )
        return "Failed" if self._saved(failed, job) else "Stale"

    def _write_report(self, job: ImportJob, report: _Report) -> str:
        key = f"imports/{job.id}/report.csv"
        self._files.write(key, report.body(), "text/csv; charset=utf-8")
        return key

    def _apply(self, job: ImportJob) -> str:
        header = rows.Header(tuple(job.columns))
        delimiter = job.delimiter or ","
        counts = {"applied": 0, "created": 0, "merged": 0, "opt_in_requests": 0}
        offset, lines, taken = job.offset, job.lines, 0
        finished = True
        try:
            for record in csvfile.records(self._chunks(job, job.offset), delimiter, job.offset, job.lines):
                if taken == self._limits.step_rows:
                    finished = False
                    break
                taken += 1
                parsed = rows.parse(header, record, job.created_at)
                if isinstance(parsed, rows.Row):
                    result = self._capture.capture_imported(parsed.request, parsed.proof)
                    counts["applied"] += 1
                    counts["created" if result.created else "merged"] += 1
                    counts["opt_in_requests"] += int(result.consent_requested)
                offset, lines = record.end, record.lines
        except FileReplaced:  # written again through its URL after validation: what is applied stays
            return self._fail(job, _REPLACED, _Report())
        stepped = job.model_copy(
            update={
                **{name: getattr(job, name) + n for name, n in counts.items()},
                "state": "done" if finished else "applying",
                "offset": offset,
                "lines": lines,
                "updated_at": self._clock.now(),
                "version": job.version + 1,
            }
        )
        if not self._saved(stepped, job):
            return "Stale"
        if finished:
            return "Done"
        # Opt-in mails at a bounded rate: the next step waits as long as this step's requests take.
        delay = min(MAX_DELAY_SECONDS, math.ceil(counts["opt_in_requests"] / self._limits.opt_in_per_second))
        self._queue.send(ImportStep(import_id=job.id, phase="apply", offset=offset), delay_seconds=delay)
        return "Applied"

    def _saved(self, job: ImportJob, read: ImportJob) -> bool:
        try:
            self._jobs.save(job, read.version)
        except Conflict:
            return False  # another copy of the message saved this step first
        return True


class _Report:
    """Rejected rows (line, reason) as CSV, the first REPORT_LIMIT listed."""

    def __init__(self) -> None:
        self.count = 0
        self._out = io.StringIO()
        self._out.write("line,reason\r\n")

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if self.count <= REPORT_LIMIT:
            self._out.write(f'{line},"{reason.replace(chr(34), chr(34) * 2)}"\r\n')
        elif self.count == REPORT_LIMIT + 1:
            self._out.write(f'0,"more rejected rows are not listed (only the first {REPORT_LIMIT})"\r\n')

    def body(self) -> bytes:
        return self._out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class BulkApi:
    """What the imports API function serves: import jobs and exports."""

    imports: ImportJobs
    exports: ExportJobs
