"""Contacts out to CSV in the Files bucket: every contact (the change feed, which holds each one
and leaves out the erased) or those with a tag, written as a stream, linked by a presigned GET.

An export is one worker step: it reads the contacts page by page through the contacts' directory
and writes the file in parts; a repeated or retried step writes the same key again. Erased
contacts are never in it: their profiles are gone, the feed's tombstones are skipped."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator

from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.service import ContactDirectory
from ecrm.errors import Conflict, NotFound
from ecrm.imports.models import ExportJob, ExportRequest, ExportStep, ExportView
from ecrm.imports.ports import ExportQueue, ExportRepository, FileStore

URL_TTL_SECONDS = 900
PAGE = 500
COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "tags",
    "custom",
    "consent_status",
    "consent_confirmed_at",
    "created_at",
    "updated_at",
)
# Free text a spreadsheet would run as a formula (OWASP "CSV injection") is written with a leading `'`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 2000


def new_export_id() -> str:
    return f"exp_{uuid.uuid4().hex}"


class ExportJobs:
    """The API's side: queue an export, read it with its download link."""

    def __init__(
        self,
        jobs: ExportRepository,
        files: FileStore,
        queue: ExportQueue,
        clock: Clock,
        ids: Callable[[], str] = new_export_id,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._queue = queue
        self._clock = clock
        self._ids = ids

    def create(self, request: ExportRequest, actor: str | None) -> ExportView:
        now = self._clock.now()
        export_id = self._ids()
        job = ExportJob(
            id=export_id,
            tag=request.tag,
            created_at=now,
            updated_at=now,
            created_by=actor,
            file_key=f"exports/{export_id}/contacts.csv",
        )
        self._jobs.create(job)
        self._queue.send(ExportStep(export_id=export_id))
        return self._view(job)

    def get(self, export_id: str) -> ExportView:
        job = self._jobs.get(export_id)
        if job is None:
            raise NotFound("export")
        return self._view(job)

    def _view(self, job: ExportJob) -> ExportView:
        url = self._files.download_url(job.file_key, URL_TTL_SECONDS) if job.state == "done" else None
        return ExportView(
            id=job.id,
            state=job.state,
            tag=job.tag,
            created_at=job.created_at,
            updated_at=job.updated_at,
            rows=job.rows,
            download_url=url,
        )


class ExportRunner:
    def __init__(self, jobs: ExportRepository, files: FileStore, contacts: ContactDirectory, clock: Clock) -> None:
        self._jobs = jobs
        self._files = files
        self._contacts = contacts
        self._clock = clock

    def run(self, step: ExportStep) -> str:
        job = self._jobs.get(step.export_id)
        if job is None or job.state != "queued":
            return "Stale"
        counted = _Counted(self._pages(job.tag))
        self._files.write_stream(job.file_key, csv_chunks(counted), "text/csv; charset=utf-8")
        done = job.model_copy(
            update={"state": "done", "rows": counted.rows, "updated_at": self._clock.now(), "version": job.version + 1}
        )
        try:
            self._jobs.save(done, job.version)
        except Conflict:
            return "Stale"  # another copy of the step finished first (and wrote the same file)
        return "Exported"

    def _pages(self, tag: str | None) -> Iterator[list[Contact]]:
        cursor: str | None = None
        while True:
            if tag is not None:
                page = self._contacts.by_tag(tag, PAGE, cursor)
                done = page.next_cursor is None
            else:
                page = self._contacts.changes(None, PAGE, cursor)
                done = bool(page.caught_up)
            yield page.items
            if done or page.next_cursor is None:
                return
            cursor = page.next_cursor


class _Counted:
    """Each contact once: one changed while the export reads the feed moves to its end and would
    come again (its ids are kept: 100,000 contacts hold a few MiB)."""

    def __init__(self, pages: Iterator[list[Contact]]) -> None:
        self._pages = pages
        self._seen: set[str] = set()
        self.rows = 0

    def __iter__(self) -> Iterator[Contact]:
        for page in self._pages:
            for contact in page:
                if contact.id in self._seen:
                    continue
                self._seen.add(contact.id)
                self.rows += 1
                yield contact


def csv_chunks(contacts: _Counted | Iterator[Contact]) -> Iterator[bytes]:
    """The CSV (UTF-8 with a BOM, so spreadsheets read it as UTF-8), a few thousand rows a chunk."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(COLUMNS)
    for n, contact in enumerate(contacts, start=1):
        writer.writerow(_row(contact))
        if n % _ROWS_PER_CHUNK == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def _row(contact: Contact) -> list[str]:
    consent = contact.consent
    return [
        contact.id,
        _safe(contact.email),  # an address may start with `=` or `-`
        _safe(contact.first_name or ""),
        _safe(contact.last_name or ""),
        contact.phone or "",  # digits, spaces, ().- and a leading +: a number, never a formula
        _safe(contact.company or ""),
        "|".join(contact.tags),  # [a-z0-9] first
        _safe(json.dumps(contact.custom, ensure_ascii=False, sort_keys=True)) if contact.custom else "",
        consent.status,
        consent.confirmed_at.isoformat() if consent.confirmed_at else "",
        contact.created_at.isoformat(),
        contact.updated_at.isoformat(),
    ]


def _safe(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell
