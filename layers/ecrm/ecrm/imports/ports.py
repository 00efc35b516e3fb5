"""What the imports domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ecrm.imports.models import ExportJob, ExportStep, ImportJob, ImportStep


class ImportRepository(Protocol):
    """Import jobs, versioned: every save names the version it read."""

    def create(self, job: ImportJob) -> None: ...

    def get(self, import_id: str) -> ImportJob | None: ...

    def save(self, job: ImportJob, expected_version: int) -> None:
        """Conflict when the stored job is not at `expected_version` any more."""
        ...


@dataclass(frozen=True)
class FileStat:
    size: int
    version: str  # changes whenever the object is written again (S3's ETag)


class FileStore(Protocol):
    """Files handed over through presigned URLs (uploads, reports), by key."""

    def upload_url(self, key: str, size_bytes: int, content_type: str, expires_in: int) -> tuple[str, dict[str, str]]:
        """A URL to PUT exactly `size_bytes` to, and the headers the PUT must carry."""
        ...

    def download_url(self, key: str, expires_in: int) -> str: ...

    def stat(self, key: str) -> FileStat | None:
        """The object's size and version, None when nothing was uploaded."""
        ...

    def read(self, key: str, start: int, chunk_bytes: int, version: str) -> Iterator[bytes]:
        """The object from byte `start`, `chunk_bytes` at a time (one ranged read each), as long
        as it is still at `version`: FileReplaced when it was written again."""
        ...

    def write(self, key: str, body: bytes, content_type: str) -> None: ...

    def write_stream(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        """Write an object of any size from `chunks`, holding a few MiB at a time (a multipart
        upload); a write that stops half-way leaves no object."""
        ...


class ImportQueue(Protocol):
    def send(self, step: ImportStep, delay_seconds: int = 0) -> None: ...


class ExportRepository(Protocol):
    """Export jobs, versioned like import jobs."""

    def create(self, job: ExportJob) -> None: ...

    def get(self, export_id: str) -> ExportJob | None: ...

    def save(self, job: ExportJob, expected_version: int) -> None: ...


class ExportQueue(Protocol):
    def send(self, step: ExportStep) -> None: ...
