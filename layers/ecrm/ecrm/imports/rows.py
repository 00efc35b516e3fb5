"""A CSV header mapped to contact fields, and each row turned into a capture request (the same
model a form posts) with its consent proof, or a rejection naming the field and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from ecrm.contacts.models import CaptureRequest, ConsentProof
from ecrm.imports.csvfile import Record
from ecrm.imports.errors import MalformedFile

FIELDS = ("email", "first_name", "last_name", "phone", "company", "tags", "marketing_consent")
CONSENT_SOURCE = "consent_source"
CONSENT_AT = "consent_at"
CUSTOM_PREFIX = "custom."
# Every row's touch: a file imported again is the same source, so an unchanged row changes nothing.
FORM_ID = "import"


@dataclass(frozen=True)
class Header:
    """The file's columns, each a field name (`custom.<key>` for a custom field)."""

    columns: tuple[str, ...]

    @classmethod
    def of(cls, record: Record) -> Header:
        columns = tuple(name.strip().lower() for name in record.fields)
        for number, name in enumerate(columns, start=1):
            if name not in FIELDS and name not in (CONSENT_SOURCE, CONSENT_AT) and not name.startswith(CUSTOM_PREFIX):
                known = ", ".join((*FIELDS, CONSENT_SOURCE, CONSENT_AT, "custom.<key>"))
                raise MalformedFile(record.line, f"column {number} is no field (known: {known})")
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        if duplicates:
            raise MalformedFile(record.line, f"column(s) named twice: {', '.join(duplicates)}")
        if "email" not in columns:
            raise MalformedFile(record.line, "no `email` column")
        return cls(columns)


@dataclass(frozen=True)
class Row:
    line: int
    request: CaptureRequest
    proof: ConsentProof | None


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str  # names the column, never its value


def parse(header: Header, record: Record, now: datetime) -> Row | Rejected:
    """`now`: the import's time (the job's creation, the same for both passes): consent cannot
    have been given after it."""
    if len(record.fields) != len(header.columns):
        return Rejected(record.line, f"{len(record.fields)} cells where the header has {len(header.columns)}")
    cells = {name: value.strip() for name, value in zip(header.columns, record.fields, strict=True)}
    try:
        proof = _proof(cells.pop(CONSENT_SOURCE, ""), cells.pop(CONSENT_AT, ""), now)
    except _Refused as exc:
        return Rejected(record.line, str(exc))
    custom = {k.removeprefix(CUSTOM_PREFIX): v for k, v in cells.items() if k.startswith(CUSTOM_PREFIX) and v}
    fields: dict[str, object] = {k: v for k, v in cells.items() if not k.startswith(CUSTOM_PREFIX) and v}
    if "tags" in fields:  # `vip|news` (or `vip,news` quoted in a comma-separated file)
        fields["tags"] = str(fields["tags"]).replace("|", ",")
    try:
        request = CaptureRequest.model_validate({**fields, "custom": custom, "form_id": FORM_ID})
    except ValidationError as exc:
        return Rejected(record.line, _first_error(exc))
    return Row(record.line, request, proof)


class _Refused(ValueError):
    pass


def _proof(source: str, given_at: str, now: datetime) -> ConsentProof | None:
    """Consent is recorded as given only with its proof: where (`consent_source`) and when
    (`consent_at`, ISO 8601 with its zone). Either alone proves nothing: the row is rejected."""
    if not source and not given_at:
        return None
    if not source or not given_at:
        raise _Refused(f"{CONSENT_SOURCE} and {CONSENT_AT}: give both (the proof of consent) or neither")
    try:
        at = datetime.fromisoformat(given_at)
    except ValueError:
        raise _Refused(f"{CONSENT_AT}: not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise _Refused(f"{CONSENT_AT}: a time without its zone (add Z or +01:00)")
    if at > now:
        raise _Refused(f"{CONSENT_AT}: after the import was made")
    try:
        return ConsentProof(source=source, given_at=at)
    except ValidationError as exc:
        raise _Refused(f"{CONSENT_SOURCE}: {exc.errors()[0]['msg']}") from None


def _first_error(exc: ValidationError) -> str:
    """The first invalid field and pydantic's reason, without the value (rows hold personal data)."""
    error = exc.errors(include_input=False, include_url=False)[0]
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0] == "custom":
        loc = [f"{CUSTOM_PREFIX}{'.'.join(loc[1:])}" if len(loc) > 1 else "custom"]
    return f"{'.'.join(loc) or 'row'}: {error['msg']}"
