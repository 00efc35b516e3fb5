"""What the Cases table holds about one contact, for the complete GDPR export: each case they
requested (found through their `REQUESTER#` links, no scan) with all of its partition: the case,
its history lines, comments, escalation records and mail claims. Staff items (`STAFF#`, `CONFIG`)
are about staff; intake keys (`MSG#`) hold a channel's message id and the case id only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrm.adapters import dynamo
from ecrm.cases.adapters.dynamo_cases import CASE, case_pk
from ecrm.personal_data import Holding, Subject, holding, section_of

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
        links = list(self._partition(f"REQUESTER#{subject.contact_id}"))
        held = [holding("requested_cases", link) for link in links]
        for link in links:
            held += [holding(section_of(i["sk"], SECTIONS), i) for i in self._partition(case_pk(link["case_id"]))]
        return held

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        return list(
            dynamo.query_all(
                self._db,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
            )
        )
