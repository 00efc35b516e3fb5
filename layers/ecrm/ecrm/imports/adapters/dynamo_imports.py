"""The Imports table: import and export jobs.

    pk                 sk      what
    IMPORT#<id>        JOB     an import job (JSON `doc`: state, checkpoint, counts; `version`)
    EXPORT#<id>        JOB     an export job (JSON `doc`: state, tag, rows; `version`)

A job names its files by key in the Files bucket; it holds no row of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from ecrm.adapters import dynamo
from ecrm.errors import AlreadyExists, Conflict
from ecrm.imports.models import ExportJob, ImportJob

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

JOB = "JOB"
Job = TypeVar("Job", ImportJob, ExportJob)


def job_pk(kind: str, job_id: str) -> str:
    return f"{kind}#{job_id}"


class _Jobs(Generic[Job]):
    """Jobs of one kind as whole JSON documents, each save conditional on the version read."""

    kind: str
    model: type[Job]

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def create(self, job: Job) -> None:
        try:
            self._db.put_item(
                TableName=self._table, Item=dynamo.item(self._item(job)), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise AlreadyExists(self.kind.lower()) from exc
            raise

    def get(self, job_id: str) -> Job | None:
        found = dynamo.get_plain(self._db, self._table, job_pk(self.kind, job_id), JOB)
        return self.model.model_validate_json(found["doc"]) if found else None

    def save(self, job: Job, expected_version: int) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=dynamo.item(self._item(job)),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Conflict(f"{self.kind.lower()} {job.id} changed meanwhile") from exc
            raise

    def _item(self, job: BaseModel) -> dict[str, Any]:
        assert isinstance(job, self.model)
        return {"pk": job_pk(self.kind, job.id), "sk": JOB, "doc": job.model_dump_json(), "version": job.version}


class DynamoImports(_Jobs[ImportJob]):
    kind = "IMPORT"
    model = ImportJob


class DynamoExports(_Jobs[ExportJob]):
    kind = "EXPORT"
    model = ExportJob
