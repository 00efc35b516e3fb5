"""unit: the complete GDPR export put together from each capability's holdings, and its zip."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from ecrm.contact360.archive import csv_text, flatten, zip_bytes
from ecrm.contact360.service import ExportService
from ecrm.errors import NotFound
from ecrm.personal_data import Holding, Subject, holding, section_of
from ecrm_infra import topology
from ecrm_infra.topology.contact360 import CONTACT360, PERSONAL_DATA_TABLES

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Held:
    """A capability's holdings, kept in a dict: the subject it was asked about is recorded."""

    def __init__(self, capability: str, holdings: list[Holding], subject: Subject | None = None) -> None:
        self.capability = capability
        self._holdings = holdings
        self._subject = subject
        self.asked: list[Subject] = []

    def subject(self, contact_id: str) -> Subject | None:
        return self._subject

    def holdings(self, subject: Subject) -> list[Holding]:
        self.asked.append(subject)
        return self._holdings


def test_each_capability_is_asked_about_the_subject_and_its_holdings_go_in_sections():
    ann = Subject("c1", "ann@example.com")
    contacts = Held(
        "contacts", [Holding("profile", {"item_key": "PROFILE", "name": "Ann"}, ("CONTACT#c1", "PROFILE"))], ann
    )
    cases = Held("cases", [Holding("cases", {"subject": "Printer"}, ("CASE#1", "CASE"))] * 2)
    quiet = Held("loyalty", [])
    dossier = ExportService(subjects=contacts, stores=(contacts, cases, quiet), clock=FixedClock()).dossier("c1")
    assert cases.asked == [ann] and quiet.asked == [ann]
    assert dossier.export.held == {
        "contacts": {"profile": [{"item_key": "PROFILE", "name": "Ann"}]},
        "cases": {"cases": [{"subject": "Printer"}, {"subject": "Printer"}]},
        "loyalty": {},
    }
    assert (dossier.export.exported_at, dossier.export.erased) == (NOW, False)
    assert {h.key for h in dossier.holdings["cases"]} == {("CASE#1", "CASE")}


def test_an_unknown_id_is_not_found_and_an_erased_contact_exports_what_is_left():
    nobody = Held("contacts", [])
    with pytest.raises(NotFound):
        ExportService(subjects=nobody, stores=(nobody,), clock=FixedClock()).export("c9")
    erased = Held("contacts", [Holding("erasure", {"item_key": "ERASED"}, ("CONTACT#c2", "ERASED"))], Subject("c2"))
    export = ExportService(subjects=erased, stores=(erased,), clock=FixedClock()).export("c2")
    assert export.erased and export.held == {"contacts": {"erasure": [{"item_key": "ERASED"}]}}


def test_a_holding_keeps_what_the_item_says_and_leaves_storage_keys_out():
    item = {"pk": "MEMBER#c1", "sk": "ENTRY#earn#o1", "gsi1pk": "x", "gsi1sk": "y", "version": 3, "expires_at": 9}
    found = holding("ledger", {**item, "entry": json.dumps({"points": 5}), "note": "{not json}"}, documents=("entry",))
    assert found.record == {"item_key": "ENTRY#earn#o1", "entry": {"points": 5}, "note": "{not json}"}
    assert found.key == ("MEMBER#c1", "ENTRY#earn#o1")
    assert section_of("COMMENT#01", (("CASE", "cases"), ("COMMENT#", "comments"))) == "comments"
    assert section_of("NEW#kind", (("CASE", "cases"),)) == "other"  # a kind nobody named still goes out


def test_csv_rows_flatten_nested_values_and_lose_nothing():
    records: list[dict[str, Any]] = [
        {"a": {"b": 1, "c": {"d": "x"}}, "tags": ["vip", "new"], "empty": {}, "none": None},
        {"z": 'é,"q"'},
    ]
    assert flatten(records[0]) == {"a.b": "1", "a.c.d": "x", "tags": '["vip", "new"]', "empty": "{}", "none": ""}
    rows = list(csv.DictReader(io.StringIO(csv_text(records))))
    assert rows[1]["z"] == 'é,"q"' and rows[0]["a.c.d"] == "x" and rows[1]["a.b"] == ""


def test_the_zip_holds_the_document_each_section_twice_and_a_readme():
    contacts = Held(
        "contacts", [Holding("profile", {"email": "ann@example.com"}, ("CONTACT#c1", "PROFILE"))], Subject("c1", "a")
    )
    export = ExportService(subjects=contacts, stores=(contacts,), clock=FixedClock()).export("c1")
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(export)))
    assert sorted(archive.namelist()) == ["README.txt", "contacts/profile.csv", "contacts/profile.json", "export.json"]
    assert archive.read("contacts/profile.csv").startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
    assert json.loads(archive.read("export.json"))["held"]["contacts"]["profile"] == [{"email": "ann@example.com"}]
    assert "contacts/profile.csv (1 records)" in archive.read("README.txt").decode()


def test_every_table_that_may_hold_personal_data_is_read_by_the_export():
    # A new capability's table is personal unless it says why not: then the export must read it.
    personal = {t.name for t in topology.TABLES if not t.no_personal_data}
    assert set(PERSONAL_DATA_TABLES.values()) == personal
    (export,) = [fn for fn in CONTACT360.functions if fn.name == "contact360_api"]
    # tables that say why they hold none: events in transit (ids only), the shop's acceptances
    # (digests), the import jobs (states and counts; the rows stay in the file)
    assert [t.name for t in topology.TABLES if t.no_personal_data] == ["Outbox", "Orders", "Imports"]
    # ... and beside them only the Outbox, where its company changes are announced
    assert set(export.grants) == personal | {"Outbox"}
    assert set(export.env) == set(PERSONAL_DATA_TABLES) | {"OUTBOX_TABLE_NAME"}
