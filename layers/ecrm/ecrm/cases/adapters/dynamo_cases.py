"""Cases in DynamoDB: the Cases table (key design and access patterns in docs/cases.md).

Every case write is one TransactWriteItems: the case item at its version, its history lines and
comments, escalation records, all conditional, all or nothing. The case item carries the keys of
the sparse indexes it belongs to, recomputed on every write:

    gsi1  ASSIGNEE#<user>          <queue key>          active and assigned: my cases
    gsi2  TEAM#<team>              <queue key>          active with a team: the team queue
    gsi3  BREACHED                 <queue key>          active and in breach
    gsi4  OPEN#<priority>          <team or ~>#<id>     active: what a policy edit replans
          SOLVED#<yyyy-mm>         <solved at>#<id>     solved or closed: the metrics window
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.adapters.dynamo import (
    batch_get_raw,
    cancellation_codes,
    decode_cursor,
    encode_cursor,
    item,
    key,
    lost_race,
    plain,
)
from ecrm.cases.models import AuditEntry, Case, Comment, EscalationRecord, Priority
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CASE = "CASE"
# Longer than any channel redelivers a message: a repeat within it finds the case made the first time.
INTAKE_KEY_TTL = timedelta(days=30)
NO_TEAM = "~"


def case_pk(case_id: str) -> str:
    return f"CASE#{case_id}"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def index_keys(case: Case) -> dict[str, str]:
    """The index attributes of the case item as the case stands (absent: not in that index)."""
    if not case.active:
        if case.solved_at is None:
            return {}
        return {
            "gsi4pk": f"SOLVED#{case.solved_at.astimezone(UTC):%Y-%m}",
            "gsi4sk": f"{_stamp(case.solved_at)}#{case.id}",
        }
    keys = {"gsi4pk": f"OPEN#{case.priority}", "gsi4sk": f"{case.team or NO_TEAM}#{case.id}"}
    if case.assignee_id:
        keys |= {"gsi1pk": f"ASSIGNEE#{case.assignee_id}", "gsi1sk": case.queue_key}
    if case.team:
        keys |= {"gsi2pk": f"TEAM#{case.team}", "gsi2sk": case.queue_key}
    if case.in_breach:
        keys |= {"gsi3pk": "BREACHED", "gsi3sk": case.queue_key}
    return keys


def audit_sk(entry: AuditEntry) -> str:
    return f"AUDIT#{entry.version:010d}#{entry.seq:03d}"


def _months(since: datetime, until: datetime) -> Iterator[str]:
    year, month = since.astimezone(UTC).year, since.astimezone(UTC).month
    last = until.astimezone(UTC)
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class DynamoCases:
    """`outbox`: where writes commit the events they announce (readers leave it out)."""

    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        self._db = client
        self._table = table
        self._outbox = outbox

    # -- reads -------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case | None:
        found = self._db.get_item(TableName=self._table, Key=key(case_pk(case_id), CASE)).get("Item")
        return _case(found) if found else None

    def requester_of(self, case_id: str) -> str | None:
        """Whose case it is (the contact 360's timeline places the case's events by it)."""
        case = self.get(case_id)
        return case.requester_id if case else None

    def find_by_idempotency_key(self, idempotency_key: str) -> str | None:
        found = self._db.get_item(TableName=self._table, Key=key(f"MSG#{idempotency_key}", "MSG")).get("Item")
        return found["case_id"]["S"] if found else None

    def escalations(self, case_id: str) -> list[EscalationRecord]:
        items, _ = self._query_partition(case_id, "ESC#", None, None)
        return [EscalationRecord.model_validate(i["record"]) for i in items]

    def history(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        items, last = self._query_partition(case_id, "AUDIT#", limit, cursor)
        return [AuditEntry.model_validate(i["entry"]) for i in items], last

    def comments(self, case_id: str, limit: int, cursor: str | None) -> tuple[list[Comment], str | None]:
        items, last = self._query_partition(case_id, "COMMENT#", limit, cursor)
        return [Comment.model_validate(i["comment"]) for i in items], last

    def comment(self, case_id: str, comment_id: str) -> Comment | None:
        found = self._db.get_item(TableName=self._table, Key=key(case_pk(case_id), f"COMMENT#{comment_id}"))
        raw = found.get("Item")
        return Comment.model_validate(plain(raw)["comment"]) if raw else None

    def list_assigned(self, assignee_id: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._index("gsi1", f"ASSIGNEE#{assignee_id}", limit, cursor)

    def list_team(self, team: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._index("gsi2", f"TEAM#{team}", limit, cursor)

    def list_breached(self, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        return self._index("gsi3", "BREACHED", limit, cursor)

    def open_cases(
        self, priority: Priority, team: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Case], str | None]:
        return self._index("gsi4", f"OPEN#{priority}", limit, cursor, f"{team}#" if team else None)

    def solved_between(self, since: datetime, until: datetime, limit: int) -> tuple[list[Case], bool]:
        found: list[Case] = []
        for month in _months(since, until):
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "gsi4",
                "KeyConditionExpression": "gsi4pk = :p AND gsi4sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {
                    ":p": {"S": f"SOLVED#{month}"},
                    ":a": {"S": _stamp(since)},
                    ":b": {"S": _stamp(until)},  # "<until>#<id>" sorts after "<until>": the end is excluded
                },
            }
            while True:
                query["Limit"] = limit + 1 - len(found)
                page = self._db.query(**query)
                found += [_case(i) for i in page.get("Items", [])]
                if len(found) > limit:
                    return found[:limit], False
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found, True

    def cases_of_requester(self, contact_id: str) -> list[str]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"REQUESTER#{contact_id}"}},
        }
        ids: list[str] = []
        while True:
            page = self._db.query(**query)
            ids += [i["case_id"]["S"] for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return ids
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def requested_by(self, contact_id: str) -> list[Case]:
        """Every case the contact requested, in one BatchGetItem after the links' Query (a link
        whose case is gone yields nothing)."""
        keys = [key(case_pk(case_id), CASE) for case_id in self.cases_of_requester(contact_id)]
        return [_case(item) for item in batch_get_raw(self._db, self._table, keys)]

    # -- writes ------------------------------------------------------------------------------
    def create(
        self,
        case: Case,
        audit: Sequence[AuditEntry],
        *,
        idempotency_key: str | None = None,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        items = [self._put(_case_values(case), "attribute_not_exists(pk)")]
        if idempotency_key:
            expires = int((case.created_at + INTAKE_KEY_TTL).timestamp())
            ref = {"pk": f"MSG#{idempotency_key}", "sk": "MSG", "case_id": case.id, "expires_at": expires}
            items.append(self._put(ref, "attribute_not_exists(pk)"))
        link = {"pk": f"REQUESTER#{case.requester_id}", "sk": case_pk(case.id), "case_id": case.id}
        items += [self._put(link), *(self._put(_audit_values(e), "attribute_not_exists(sk)") for e in audit)]
        items += self._events(events)
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if lost_race(exc):
                raise AlreadyExists(idempotency_key or case.id) from exc
            raise

    def save(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        *,
        comments: Sequence[Comment] = (),
        events: Sequence[DomainEvent] = (),
    ) -> None:
        items = self._change(case, expected_version, audit, comments) + self._events(events)
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if lost_race(exc):
                raise Conflict(f"case {case.id} is no longer at version {expected_version}") from exc
            raise

    def apply_escalation(
        self,
        case: Case,
        expected_version: int,
        audit: Sequence[AuditEntry],
        records: Sequence[EscalationRecord],
        *,
        events: Sequence[DomainEvent] = (),
    ) -> None:
        items = self._change(case, expected_version, audit, ())
        items += [self._put(_record_values(r), "attribute_not_exists(sk)") for r in records]
        items += self._events(events)  # last: the codes below are read by position
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if not lost_race(exc):
                raise
            codes = cancellation_codes(exc)
            # The case item is first: its condition failing means the case moved on (decide again);
            # otherwise a record of this step exists already (another delivery applied it).
            if codes and codes[0] == "None" and "ConditionalCheckFailed" in codes[1:]:
                raise AlreadyExists("escalation record") from exc
            raise Conflict(f"case {case.id} is no longer at version {expected_version}") from exc

    def _events(self, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        return outbox.puts(self._outbox, events, "the cases repository")

    def rewrite_trail(self, case_id: str, comments: Sequence[Comment], audit: Sequence[AuditEntry]) -> None:
        puts = [_comment_values(c) for c in comments] + [_audit_values(e) for e in audit]
        for start in range(0, len(puts), 25):
            request: dict[str, Any] = {
                self._table: [{"PutRequest": {"Item": item(values)}} for values in puts[start : start + 25]]
            }
            while request:
                request = self._db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def claim_mail(self, case_id: str, mail_key: str, now: datetime) -> bool:
        return dynamo.claim_mail(self._db, self._table, case_pk(case_id), mail_key, now)

    def mark_mail_sent(self, case_id: str, mail_key: str, message_id: str, now: datetime) -> None:
        dynamo.mark_mail_sent(self._db, self._table, case_pk(case_id), mail_key, message_id, now)

    def mark_mail_failed(self, case_id: str, mail_key: str, reason: str, now: datetime) -> None:
        dynamo.mark_mail_failed(self._db, self._table, case_pk(case_id), mail_key, reason, now)

    def release_mail(self, case_id: str, mail_key: str, claimed_at: datetime) -> None:
        dynamo.release_mail(self._db, self._table, case_pk(case_id), mail_key, claimed_at)

    # -- helpers -----------------------------------------------------------------------------
    def _change(
        self, case: Case, expected_version: int, audit: Sequence[AuditEntry], comments: Sequence[Comment]
    ) -> list[dict[str, Any]]:
        guard = {":v": {"N": str(expected_version)}}
        return [
            self._put(_case_values(case), "version = :v", guard),
            *(self._put(_audit_values(e), "attribute_not_exists(sk)") for e in audit),
            *(self._put(_comment_values(c), "attribute_not_exists(sk)") for c in comments),
        ]

    def _put(
        self, values: dict[str, Any], condition: str | None = None, condition_values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": item(values)}
        if condition:
            put["ConditionExpression"] = condition
        if condition_values:
            put["ExpressionAttributeValues"] = condition_values
        return {"Put": put}

    def _query_partition(
        self, case_id: str, prefix: str, limit: int | None, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Items of one kind in the case's partition, in key order: one page, or all if no limit."""
        pk = case_pk(case_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": prefix}},
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, {"pk": pk}, ("sk", prefix))
        found: list[dict[str, Any]] = []
        while True:
            if limit:
                query["Limit"] = limit
            page = self._db.query(**query)
            found += [plain(i) for i in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            if limit or not last:
                return found, encode_cursor(last) if last and limit else None
            query["ExclusiveStartKey"] = last

    def _index(
        self, index: str, partition: str, limit: int, cursor: str | None, sk_prefix: str | None = None
    ) -> tuple[list[Case], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{index}pk = :p",
            "ExpressionAttributeValues": {":p": {"S": partition}},
            "Limit": limit,
        }
        if sk_prefix:
            query["KeyConditionExpression"] += f" AND begins_with({index}sk, :s)"
            query["ExpressionAttributeValues"][":s"] = {"S": sk_prefix}
        if cursor:
            prefix = (f"{index}sk", sk_prefix) if sk_prefix else None
            query["ExclusiveStartKey"] = decode_cursor(cursor, {f"{index}pk": partition}, prefix)
        page = self._db.query(**query)
        last = page.get("LastEvaluatedKey")
        return [_case(i) for i in page.get("Items", [])], encode_cursor(last) if last else None


def _case_values(case: Case) -> dict[str, Any]:
    return {
        "pk": case_pk(case.id),
        "sk": CASE,
        "version": case.version,
        "case": case.model_dump(mode="json", exclude={"version"}),
        **index_keys(case),
    }


def _case(raw: dict[str, Any]) -> Case:
    values = plain(raw)
    return Case.model_validate({**values["case"], "version": int(values["version"])})


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    return {"pk": case_pk(entry.case_id), "sk": audit_sk(entry), "entry": entry.model_dump(mode="json")}


def _comment_values(comment: Comment) -> dict[str, Any]:
    return {"pk": case_pk(comment.case_id), "sk": f"COMMENT#{comment.id}", "comment": comment.model_dump(mode="json")}


def _record_values(record: EscalationRecord) -> dict[str, Any]:
    return {"pk": case_pk(record.case_id), "sk": f"ESC#{record.key}", "record": record.model_dump(mode="json")}
