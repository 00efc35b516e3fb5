"""Contacts out to CSV in the Files bucket: every contact (the change feed, which holds each one
and leaves out the erased), those with a tag, or a saved segment's (the campaigns' plan over their
segment index, as its count preview runs it), written as a stream, linked by a presigned GET.

An export is one worker step: it reads the contacts page by page through the contacts' directory
and writes the file in parts; a repeated or retried step writes the same key again. Erased
contacts are never in it: their profiles are gone, the feed's tombstones are skipped."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ecrm.clock import Clock
from ecrm.contacts.models import Contact
from ecrm.contacts.service import ContactDirectory
from ecrm.errors import Conflict, NotFound
from ecrm.imports.models import ExportJob, ExportRequest, ExportState, ExportStep, ExportView
from ecrm.imports.ports import ExportQueue, ExportRepository, FileStore

if TYPE_CHECKING:
    from ecrm.campaigns.models import Segment
    from ecrm.campaigns.ports import Repository, SegmentIndex

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
            segment_id=request.segment_id,
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
            segment_id=job.segment_id,
            created_at=job.created_at,
            updated_at=job.updated_at,
            rows=job.rows,
            error=job.error,
            download_url=url,
        )


class ExportRunner:
    def __init__(
        self,
        jobs: ExportRepository,
        files: FileStore,
        contacts: ContactDirectory,
        segments: Repository[Segment],
        index: SegmentIndex,
        clock: Clock,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._contacts = contacts
        self._segments = segments
        self._index = index
        self._clock = clock

    def run(self, step: ExportStep) -> str:
        job = self._jobs.get(step.export_id)
        if job is None or job.state != "queued":
            return "Stale"
        if job.segment_id is not None:
            segment = self._segments.get(job.segment_id)
            if segment is None:
                return self._finish(job, "failed", 0, "the segment no longer exists")
            pages = self._segment_pages(segment)
        else:
            pages = self._pages(job.tag)
        counted = _Counted(pages)
        self._files.write_stream(job.file_key, csv_chunks(counted), "text/csv; charset=utf-8")
        return self._finish(job, "done", counted.rows)

    def _finish(self, job: ExportJob, state: ExportState, rows: int, error: str | None = None) -> str:
        done = job.model_copy(
            update={
                "state": state,
                "rows": rows,
                "error": error,
                "updated_at": self._clock.now(),
                "version": job.version + 1,
            }
        )
        try:
            self._jobs.save(done, job.version)
        except Conflict:
            return "Stale"  # another copy of the step finished first (and wrote the same file)
        return "Exported" if state == "done" else "Failed"

    def _segment_pages(self, segment: Segment) -> Iterator[list[Contact]]:
        """The segment's members as its count preview and a send find them, each member's profile
        read (an erased contact has none, and its index items went with its erasure). The campaigns'
        planner is imported here: the worker alone uses it, and only for a segment (decision 93)."""
        from ecrm.campaigns import segments

        rules = segment.rules
        now = self._clock.now()
        plan = segments.plan(rules, now, self._index.estimates(segments.candidate_partitions(rules)))
        for page in segments.pages(plan, self._index, PAGE):
            found = (self._contact(member.contact_id) for member in page.accepted)
            yield [contact for contact in found if contact is not None]

    def _contact(self, contact_id: str) -> Contact | None:
        try:
            return self._contacts.get(contact_id)
        except NotFound:
            return None

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
