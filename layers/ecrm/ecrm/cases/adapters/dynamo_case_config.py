"""The cases capability's configuration in its table: the SLA policy book and the staff directory.

CONFIG          POLICIES            the book in force: `book` (JSON), version, updated_at/by
CONFIG          POLICIES#<version>  every book ever saved (the history of policy edits)
CONFIG          STAFF               team leads and management, version
STAFF#<user>    STAFF               a signed-in user's e-mail address (from their token)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm.adapters.dynamo import condition_failed, item, key, plain
from ecrm.cases.models import StaffConfig
from ecrm.cases.policy import PolicyBook, PolicyBookView, standard_book
from ecrm.errors import Conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONFIG = "CONFIG"


def _version_guard(expected_version: int) -> dict[str, Any]:
    if expected_version == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}


class DynamoPolicies:
    """PolicySource (cached `current()`) and PolicyStore (uncached reads, versioned writes).

    `current()` keeps the book for `cache_seconds`, so a case operation costs no extra read; a
    policy edit's recompute waits that long before it starts (ecrm.cases.recompute)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        cache_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = client
        self._table = table
        self._ttl = cache_seconds
        self._monotonic = monotonic
        self._cached: tuple[float, PolicyBook] | None = None

    def current(self) -> PolicyBook:
        now = self._monotonic()
        if self._cached is None or now - self._cached[0] >= self._ttl:
            self._cached = (now, self.current_view().book)
        return self._cached[1]

    def current_view(self) -> PolicyBookView:
        found = self._db.get_item(TableName=self._table, Key=key(CONFIG, "POLICIES"), ConsistentRead=True).get("Item")
        if not found:
            return PolicyBookView(version=0, book=standard_book())
        values = plain(found)
        return PolicyBookView(
            version=int(values["version"]),
            book=PolicyBook.model_validate_json(values["book"]),
            updated_at=values.get("updated_at"),
            updated_by=values.get("updated_by"),
        )

    def save(self, view: PolicyBookView, expected_version: int) -> None:
        values = {
            "book": view.book.model_dump_json(),
            "version": view.version,
            "updated_at": view.updated_at.isoformat() if view.updated_at else None,
            "updated_by": view.updated_by,
        }
        current: dict[str, Any] = {
            "TableName": self._table,
            "Item": item({"pk": CONFIG, "sk": "POLICIES", **values}),
            **_version_guard(expected_version),
        }
        history: dict[str, Any] = {
            "TableName": self._table,
            "Item": item({"pk": CONFIG, "sk": f"POLICIES#{view.version:06d}", **values}),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
        try:
            self._db.transact_write_items(TransactItems=[{"Put": current}, {"Put": history}])  # type: ignore[typeddict-item]
        except ClientError as exc:
            if condition_failed(exc):
                raise Conflict(f"the policy book is no longer at version {expected_version}") from exc
            raise
        self._cached = None


class DynamoStaff:
    """The StaffStore port."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def remember(self, user_id: str, email: str, now: datetime) -> None:
        values = {"pk": f"STAFF#{user_id}", "sk": "STAFF", "email": email, "seen_at": now.isoformat()}
        self._db.put_item(TableName=self._table, Item=item(values))

    def email_of(self, user_id: str) -> str | None:
        found = self._db.get_item(TableName=self._table, Key=key(f"STAFF#{user_id}", "STAFF")).get("Item")
        return found["email"]["S"] if found else None

    def config(self) -> StaffConfig:
        found = self._db.get_item(TableName=self._table, Key=key(CONFIG, "STAFF")).get("Item")
        if not found:
            return StaffConfig()
        values = plain(found)
        return StaffConfig.model_validate({**values["config"], "version": int(values["version"])})

    def save_config(self, config: StaffConfig, expected_version: int) -> None:
        values = {
            "pk": CONFIG,
            "sk": "STAFF",
            "version": config.version,
            "config": config.model_dump(exclude={"version"}),
        }
        try:
            self._db.put_item(TableName=self._table, Item=item(values), **_version_guard(expected_version))
        except ClientError as exc:
            if condition_failed(exc):
                raise Conflict(f"the staff directory is no longer at version {expected_version}") from exc
            raise
