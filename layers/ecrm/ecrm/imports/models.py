"""Import jobs: what the API accepts and answers, what is stored, and the worker's step messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ecrm.model import Model
from ecrm.types import Tag

ImportId = Annotated[str, StringConstraints(pattern=r"^imp_[0-9a-f]{32}$")]
ImportState = Literal["awaiting_upload", "validating", "applying", "done", "failed"]
UPLOAD_CONTENT_TYPE = "text/csv"


class ImportRequest(Model):
    """POST /imports: the size of the file about to be uploaded (the presigned URL is signed for it)."""

    model_config = ConfigDict(extra="forbid")

    size_bytes: int = Field(ge=1, description="the file's exact size; the upload must carry this many bytes")


class StartRequest(Model):
    """POST /imports/{import_id}/start takes no fields: an empty object or no body."""

    model_config = ConfigDict(extra="forbid")


class ImportCreated(Model):
    id: str
    state: ImportState
    upload_url: str = Field(description="PUT the file here, with the headers in `upload_headers`, before it expires")
    upload_headers: dict[str, str]
    expires_in_seconds: int
    max_bytes: int


class ImportJob(Model):
    """One import, as stored: its file, where the worker is (checkpoint) and what it has done."""

    id: str
    state: ImportState = "awaiting_upload"
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    size_bytes: int
    file_key: str
    file_version: str | None = None  # the upload as it was when the import started (its ETag)
    report_key: str | None = None
    delimiter: str | None = None
    columns: list[str] = Field(default_factory=list)
    offset: int = 0  # byte offset of the next record to apply
    lines: int = 0  # lines before `offset`
    rows: int = 0  # data rows in the file (known once validated)
    applied: int = 0  # rows applied so far (valid rows up to the checkpoint)
    created: int = 0
    merged: int = 0
    rejected: int = 0
    opt_in_requests: int = 0
    error: str | None = None  # why a file could not be imported at all
    version: int = 1


class ImportView(Model):
    """GET /imports/{import_id}."""

    id: str
    state: ImportState
    created_at: datetime
    updated_at: datetime
    rows_read: int = Field(description="data rows in the file (after validation)")
    applied: int
    created: int
    merged: int
    rejected: int
    opt_in_requests: int = Field(description="rows without consent proof that asked for an opt-in mail")
    error: str | None = None
    report_url: str | None = Field(default=None, description="rejected rows (line, reason) as CSV; presigned GET")


class ImportStep(Model):
    """A worker's message: validate the whole file, or apply it from `offset` (the job's checkpoint)."""

    model_config = ConfigDict(extra="forbid")

    import_id: str
    phase: Literal["validate", "apply"]
    offset: int = 0


ExportId = Annotated[str, StringConstraints(pattern=r"^exp_[0-9a-f]{32}$")]
ExportState = Literal["queued", "done", "failed"]


SegmentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class ExportRequest(Model):
    """POST /exports: every contact, those with `tag`, or a saved segment's (at most one filter)."""

    model_config = ConfigDict(extra="forbid")

    tag: Tag | None = Field(default=None, description="only contacts with this tag")
    segment_id: SegmentId | None = Field(
        default=None, description="a saved segment's contacts, as its count preview finds them (mailable ones)"
    )

    @model_validator(mode="after")
    def _one_filter(self) -> ExportRequest:
        if self.tag is not None and self.segment_id is not None:
            raise ValueError("give `tag` or `segment_id`, not both")
        return self


class ExportJob(Model):
    id: str
    state: ExportState = "queued"
    tag: str | None = None
    segment_id: str | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    file_key: str
    rows: int = 0
    error: str | None = None
    version: int = 1


class ExportView(Model):
    """POST /exports, GET /exports/{export_id}."""

    id: str
    state: ExportState
    tag: str | None
    segment_id: str | None
    created_at: datetime
    updated_at: datetime
    rows: int = Field(description="contacts in the file (once done)")
    error: str | None = Field(default=None, description="why the export failed")
    download_url: str | None = Field(default=None, description="the CSV, once done; presigned GET")


class ExportStep(Model):
    model_config = ConfigDict(extra="forbid")

    export_id: str
