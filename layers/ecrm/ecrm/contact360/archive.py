"""The export as a zip a person can open: the whole document as JSON, and each section as a CSV
file and a JSON file (`cases/case_comments.csv`), with a README saying what each file holds."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from ecrm.contact360.models import PersonalDataExport

README = """Everything {service} holds about contact {contact_id}, exported {exported_at}.

export.json holds all of it in one document. Each folder is one part of the service (a
capability), each file one kind of record, as CSV (one row per record; nested values as
dotted columns, lists as JSON) and as JSON.
{erased}
Files:
{files}
"""


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """One CSV row: nested maps as dotted columns, lists as JSON, no value lost."""
    row: dict[str, str] = {}
    for name, value in record.items():
        column = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            row.update(flatten(value, f"{column}."))
        elif isinstance(value, (dict, list)):
            row[column] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            row[column] = "" if value is None else str(value)
    return row


def csv_text(records: list[dict[str, Any]]) -> str:
    rows = [flatten(r) for r in records]
    columns = sorted({c for row in rows for c in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def zip_bytes(export: PersonalDataExport, service: str = "eCRM") -> bytes:
    document = export.model_dump(mode="json")
    buffer = io.BytesIO()
    files: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
        for capability, section, _ in export.sections():
            records = document["held"][capability][section]
            for suffix, text in (
                ("csv", "\ufeff" + csv_text(records)),  # a BOM, so spreadsheet programs read UTF-8
                ("json", json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True)),
            ):
                name = f"{capability}/{section}.{suffix}"
                archive.writestr(name, text)
                files.append(f"  {name} ({len(records)} records)")
        erased = "\nThe contact was erased: what is left holds ids and dates, no personal data.\n"
        readme = README.format(
            service=service,
            contact_id=export.contact_id,
            exported_at=document["exported_at"],
            erased=erased if export.erased else "",
            files="\n".join(files),
        )
        archive.writestr("README.txt", readme)
    return buffer.getvalue()
