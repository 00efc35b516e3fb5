"""What the Cases table holds about one contact, for the complete GDPR export: each case they
requested (found through their `REQUESTER#` links, no scan) with all of its partition: the case,
its history lines, comments, escalation records and mail claims. Staff items (`STAFF#`, `CONFIG`)
are about staff; intake keys (`MSG#`) hold a channel's message id and the case id only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import holdings
from ecrm.cases.adapters.dynamo_cases import CASE, case_pk
from ecrm.personal_data import Holding, Subject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (
    (CASE, "cases"),
    ("AUDIT#", "case_history"),
    ("COMMENT#", "case_comments"),
    ("ESC#", "case_escalations"),
    ("MAIL#", "case_mail"),
)


class CasesPersonalData:
    capability = "cases"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        links = holdings.partition(self._db, self._table, f"REQUESTER#{subject.contact_id}", (("", "requested_cases"),))
        held = list(links)
        for link in links:
            held += holdings.partition(self._db, self._table, case_pk(link.record["case_id"]), SECTIONS)
        return held
