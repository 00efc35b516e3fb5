"""The imports capability's own exceptions."""

from __future__ import annotations

from ecrm.errors import DomainError


class MalformedFile(DomainError):
    """A file that cannot be read as a whole (encoding, a record too long, too many columns,
    unbalanced quotes, a header that maps to no field): the import ends with this in its report,
    and no row of it is applied."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class FileReplaced(DomainError):
    """The uploaded file was written again (through its presigned URL) after the import started."""
