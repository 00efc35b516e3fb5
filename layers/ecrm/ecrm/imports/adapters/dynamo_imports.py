"""The Imports table.

    pk                 sk      what
    IMPORT#<id>        JOB     an import job (JSON `doc`: state, checkpoint, counts; `version`)

A job names its file and report by key in the Files bucket; it holds no row of the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.adapters import dynamo
from ecrm.errors import AlreadyExists, Conflict
from ecrm.imports.models import ImportJob

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

JOB = "JOB"


def job_pk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


class DynamoImports:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def create(self, job: ImportJob) -> None:
        try:
            self._db.put_item(
                TableName=self._table, Item=dynamo.item(self._item(job)), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise AlreadyExists("import") from exc
            raise

    def get(self, import_id: str) -> ImportJob | None:
        found = dynamo.get_plain(self._db, self._table, job_pk(import_id), JOB)
        return ImportJob.model_validate_json(found["doc"]) if found else None

    def save(self, job: ImportJob, expected_version: int) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=dynamo.item(self._item(job)),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict(f"import {job.id} changed meanwhile") from exc
            raise

    @staticmethod
    def _item(job: ImportJob) -> dict[str, Any]:
        return {"pk": job_pk(job.id), "sk": JOB, "doc": job.model_dump_json(), "version": job.version}
