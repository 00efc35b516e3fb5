"""unit: a header mapped to contact fields; rows to capture requests with consent proof, or rejected
naming the column and never its value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ecrm.imports import rows
from ecrm.imports.csvfile import Record
from ecrm.imports.errors import MalformedFile

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def record(*fields: str, line: int = 2) -> Record:
    return Record(line=line, fields=list(fields), end=0, lines=line)


HEADER = rows.Header.of(
    record(" Email ", "first_name", "tags", "custom.shoe_size", "consent_source", "consent_at", line=1)
)


def test_a_row_becomes_the_form_post_it_stands_for_with_its_proof() -> None:
    row = rows.parse(
        HEADER, record("Ann@Example.com", "Ann", "VIP|news", "42", "shop", "2024-03-01T10:00:00+01:00"), NOW
    )
    assert isinstance(row, rows.Row)
    assert row.request.email == "ann@example.com"
    assert row.request.tags == ["vip", "news"]
    assert row.request.custom == {"shoe_size": "42"}
    assert row.request.form_id == rows.FORM_ID
    assert row.proof is not None and row.proof.source == "shop"
    assert row.proof.given_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (("secret@", "Ann", "", "", "", ""), "email: "),
        (("a@b.de", "<script>", "", "", "", ""), "first_name: "),
        (("a@b.de", "", "", "x" * 501, "", ""), "custom.shoe_size: "),
        (("a@b.de", "", "", "", "shop", ""), "consent_source and consent_at"),
        (("a@b.de", "", "", "", "", "2024-03-01T10:00:00Z"), "consent_source and consent_at"),
        (("a@b.de", "", "", "", "shop", "yesterday"), "consent_at: not an ISO 8601 time"),
        (("a@b.de", "", "", "", "shop", "2024-03-01T10:00:00"), "consent_at: a time without its zone"),
        (("a@b.de", "", "", "", "shop", "2026-12-07T09:00:01Z"), "consent_at: after the import was made"),
        (("a@b.de", "Ann"), "2 cells where the header has 6"),
    ],
)
def test_a_bad_row_is_rejected_naming_the_column_not_the_value(cells: tuple[str, ...], reason: str) -> None:
    rejected = rows.parse(HEADER, record(*cells), NOW)
    assert isinstance(rejected, rows.Rejected)
    assert rejected.reason.startswith(reason)
    assert "secret@" not in rejected.reason and "script" not in rejected.reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (("email", "mail"), "column 2 is no field"),
        (("email", "Email"), "named twice: email"),
        (("first_name",), "no `email` column"),
    ],
)
def test_a_header_that_maps_to_no_fields_fails_the_file(header: tuple[str, ...], reason: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        rows.Header.of(record(*header, line=1))
    assert reason in caught.value.reason
