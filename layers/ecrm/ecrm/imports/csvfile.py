"""A CSV file read as a stream of byte chunks: records with their line numbers and byte offsets.

Memory is bounded by the chunk and `MAX_RECORD_BYTES`, never by the file: a chunk is split into
lines, each line decoded (strict UTF-8, a BOM dropped at the start of the file), and Python's csv
reader turns lines into records, pulling one line at a time, so after each record the bytes
consumed are exactly where the next record starts: a checkpoint to continue from.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ecrm.imports.errors import MalformedFile

MAX_RECORD_BYTES = 64 * 1024  # a record (all its lines, a quoted field may hold newlines)
MAX_COLUMNS = 100
DELIMITERS = (",", ";")
BOM = "\ufeff"


@dataclass(frozen=True)
class Record:
    line: int  # the file's line the record starts on, from 1
    fields: list[str]
    end: int  # byte offset just after the record: where the next one starts
    lines: int  # lines consumed through the record (resume with `records(..., end, lines)`)


@dataclass
class _Lines:
    """Physical lines of the byte stream as text, counting lines and bytes as the csv reader pulls."""

    chunks: Iterator[bytes]
    offset: int  # bytes consumed so far (absolute in the file)
    line: int  # lines consumed so far
    record_start: int = 0
    record_line: int = 1  # the line the record being read starts on

    def __iter__(self) -> Iterator[str]:
        buffer = b""
        for chunk in self.chunks:
            buffer += chunk
            start = 0
            while (newline := buffer.find(b"\n", start)) >= 0:
                yield self._text(buffer[start : newline + 1])
                start = newline + 1
            buffer = buffer[start:]
            self._bounded(len(buffer))
        if buffer:
            yield self._text(buffer)

    def _bounded(self, pending: int) -> None:
        if self.offset + pending - self.record_start > MAX_RECORD_BYTES:
            raise MalformedFile(
                self.record_line,
                f"a record longer than {MAX_RECORD_BYTES} bytes (a runaway line, or a quote never closed)",
            )

    def _text(self, raw: bytes) -> str:
        self._bounded(len(raw))
        at_start = self.offset == 0
        self.offset += len(raw)
        self.line += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedFile(self.line, f"not UTF-8 text (byte {exc.start + 1} of the line)") from exc
        return text.removeprefix(BOM) if at_start else text


def sniff(header: bytes) -> str:
    """The delimiter of a file whose first line is `header`: `,` or `;`, whichever it holds more of
    (outside quotes); `,` for a one-column file."""
    text = header.decode("utf-8", errors="replace")
    outside = "".join(part for i, part in enumerate(text.split('"')) if i % 2 == 0)
    return max(DELIMITERS, key=lambda d: (outside.count(d), d == ","))


def records(chunks: Iterable[bytes], delimiter: str, offset: int = 0, line: int = 0) -> Iterator[Record]:
    """Every non-blank record from byte `offset` (where a record starts; `line` lines precede it).
    Raises MalformedFile for what makes the file unreadable from there on."""
    lines = _Lines(iter(chunks), offset=offset, line=line, record_start=offset)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    while True:
        first = lines.record_line = lines.line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise MalformedFile(first, _reason(exc)) from exc
        lines.record_start = lines.offset
        if len(fields) > MAX_COLUMNS:
            raise MalformedFile(first, f"{len(fields)} columns, more than {MAX_COLUMNS}")
        if fields and any(f.strip() for f in fields):
            yield Record(line=first, fields=fields, end=lines.offset, lines=lines.line)


def _reason(exc: csv.Error) -> str:
    text = str(exc)
    if "EOF" in text or "end of data" in text:
        return "a quoted field is never closed (unbalanced quotes)"
    return f"not CSV: {text}"
