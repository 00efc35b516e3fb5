"""unit: the streaming CSV reader: dialects, quoting, offsets to resume from, hostile files."""

from __future__ import annotations

import itertools

import pytest
from ecrm.imports import csvfile
from ecrm.imports.errors import MalformedFile
from hypothesis import given
from hypothesis import strategies as st

FILE = '\ufeffemail;name\r\na@x.de;"An;n"\n\n"b@x.de";"two\nlines"\nc@x.de;"say ""hi"""'.encode()


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 7, 4096])
def test_records_are_the_same_whatever_the_chunk_size(size: int) -> None:
    found = list(csvfile.records(chunks(FILE, size), ";"))
    assert [(r.line, r.fields) for r in found] == [
        (1, ["email", "name"]),  # the BOM is gone
        (2, ["a@x.de", "An;n"]),
        (4, ["b@x.de", "two\nlines"]),  # blank line 3 skipped; a quoted newline stays in its field
        (6, ["c@x.de", 'say "hi"']),
    ]


def test_reading_from_a_records_end_continues_with_the_next_record() -> None:
    first = list(csvfile.records([FILE], ";"))
    for done, rest in itertools.pairwise(first):
        resumed = next(csvfile.records([FILE[done.end :]], ";", offset=done.end, line=done.lines))
        assert resumed == rest


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [(b"email,name", ","), (b"email;name;phone", ";"), (b"email", ","), (b'"a;b",c', ",")],
)
def test_the_delimiter_is_sniffed_from_the_header_outside_quotes(header: bytes, delimiter: str) -> None:
    assert csvfile.sniff(header) == delimiter


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"email\na@x.de\n\xc3\x28\n", 3, "not UTF-8"),
        (b"email\n" + b"x" * (csvfile.MAX_RECORD_BYTES + 1), 2, "longer than"),
        (b"email\n" + b"y" * (10 * 1024 * 1024) + b"\nz\n", 2, "longer than"),
        (b'email\n"open\n' + b"more\n" * 20000, 2, "longer than"),
        (b'email\n"never closed\n', 2, "never closed"),
        (",".join(f"c{i}" for i in range(1000)).encode() + b"\n", 1, "1000 columns"),
    ],
    ids=["encoding", "long-line", "10MB-line", "runaway-quote", "unbalanced-at-end", "1000-columns"],
)
def test_a_hostile_file_fails_on_its_line_with_a_reason(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        list(csvfile.records(chunks(data, 64 * 1024), ","))
    assert caught.value.line == line
    assert reason in caught.value.reason


@given(st.lists(st.lists(st.text(alphabet='ab,;"\n é', max_size=6), min_size=2, max_size=2), min_size=1, max_size=8))
def test_what_the_csv_writer_wrote_reads_back(rows: list[list[str]]) -> None:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    data = out.getvalue().encode()
    found = [r.fields for r in csvfile.records(chunks(data, 5), ",")]
    assert found == [r for r in rows if any(f.strip() for f in r)]
