"""Companies in the Contact360 table (key design in docs/contact360.md):
`COMPANY#<id>` / `COMPANY` (the company as JSON, `version`), `DOMAIN#<domain>` / `DOMAIN` (its owner:
a conditional put makes one owner per domain), `COMPANY#<id>` / `CONTACT#<contact>` (a member, for
the company's list) and `LINK#<contact>` / `COMPANY` (the contact's one company). A link and its
member item are written and removed together, the link conditioned on what was read and on the
company's version its event carries; the events go in the same transaction (ecrm.outbox)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrm import outbox
from ecrm.adapters import dynamo
from ecrm.contact360.models import Company, CompanyMember
from ecrm.errors import Conflict
from ecrm.events import DomainEvent
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

COMPANY = "COMPANY"


def company_pk(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def link_pk(contact_id: str) -> str:
    return f"LINK#{contact_id}"


def member_sk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


class DynamoCompanies:
    def __init__(self, client: DynamoDBClient, table: str, outbox: Outbox | None = None) -> None:
        self._db = client
        self._table = table
        self._outbox = outbox

    # -- companies ---------------------------------------------------------------------------------
    def create(self, company: Company) -> None:
        items = [self._put(self._company(company), "attribute_not_exists(pk)")]
        items += [self._claim(company.id, d) for d in company.domains]
        self._transact(items, company.domains, offset=1)

    def save(self, company: Company, before: Company, events: Sequence[DomainEvent] = ()) -> None:
        added = sorted(set(company.domains) - set(before.domains))
        released = sorted(set(before.domains) - set(company.domains))
        items = [
            self._put(self._company(company), "version = :v", {":v": before.version}),
            *(self._claim(company.id, d) for d in added),
            *(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": dynamo.key(f"DOMAIN#{d}", "DOMAIN"),
                        "ConditionExpression": "company_id = :c",
                        "ExpressionAttributeValues": dynamo.values({":c": company.id}),
                    }
                }
                for d in released
            ),
        ]
        self._transact([*items, *self._announced(events)], added, offset=1)

    def get(self, company_id: str) -> Company | None:
        item = self._get(company_pk(company_id), COMPANY)
        return Company.model_validate_json(item["doc"]) if item else None

    def by_domain(self, domain: str) -> Company | None:
        owner = self._get(f"DOMAIN#{domain}", "DOMAIN")
        return self.get(owner["company_id"]) if owner else None

    # -- members -----------------------------------------------------------------------------------
    def company_of(self, contact_id: str) -> CompanyMember | None:
        link = self._get(link_pk(contact_id), COMPANY)
        return _member(link) if link else None

    def members(self, company_id: str, limit: int) -> tuple[list[CompanyMember], bool]:
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :member)",
            ExpressionAttributeValues=dynamo.values({":pk": company_pk(company_id), ":member": "CONTACT#"}),
            Limit=limit + 1,
        )
        found = [_member(dynamo.plain(i)) for i in answer.get("Items", [])]
        return found[:limit], len(found) <= limit and "LastEvaluatedKey" not in answer

    def each_member(self, company_id: str) -> Iterator[CompanyMember]:
        """Every contact of the company, a Query page at a time (strongly consistent: a link
        committed before the call is among them)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "ExpressionAttributeValues": dynamo.values({":pk": company_pk(company_id), ":member": "CONTACT#"}),
            "ConsistentRead": True,
        }
        while True:
            answer = self._db.query(**request)
            yield from (_member(dynamo.plain(i)) for i in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def announce(self, events: Sequence[DomainEvent]) -> None:
        """Events that go with no write of ours (a company's change told to each of its contacts)."""
        puts = self._announced(events)
        for start in range(0, len(puts), dynamo.TRANSACTION_MAX):
            dynamo.transact(self._db, puts[start : start + dynamo.TRANSACTION_MAX])

    def link(
        self, company_id: str, member: CompanyMember, company_version: int, events: Sequence[DomainEvent] = ()
    ) -> bool:
        """`company_version`: the version the events' attributes were read at; a company changed
        since makes it a Conflict (read again), so no event carries attributes older than the link."""
        current = self._get(link_pk(member.contact_id), COMPANY)
        if current and current["company_id"] == company_id and current["linked_by"] == member.linked_by:
            return False
        stored = member.model_dump(mode="json")
        items = [
            self._put(
                {"pk": link_pk(member.contact_id), "sk": COMPANY, "company_id": company_id, **stored},
                *self._unchanged(current),
            ),
            self._put({"pk": company_pk(company_id), "sk": member_sk(member.contact_id), **stored}),
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": dynamo.key(company_pk(company_id), COMPANY),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": dynamo.values({":v": company_version}),
                }
            },
        ]
        if current and current["company_id"] != company_id:  # moved: out of the old company's list
            items.append(self._delete(company_pk(current["company_id"]), member_sk(member.contact_id)))
        self._transact([*items, *self._announced(events)])
        return True

    def unlink(self, contact_id: str, company_id: str | None = None, events: Sequence[DomainEvent] = ()) -> bool:
        current = self._get(link_pk(contact_id), COMPANY)
        if current is None or (company_id is not None and current["company_id"] != company_id):
            return False
        condition = ("company_id = :c", {":c": current["company_id"]})
        self._transact(
            [
                self._delete(link_pk(contact_id), COMPANY, *condition),
                self._delete(company_pk(current["company_id"]), member_sk(contact_id)),
                *self._announced(events),
            ]
        )
        return True

    # -- plumbing ----------------------------------------------------------------------------------
    def _announced(self, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        return outbox.puts(self._outbox, events, "the companies repository")

    @staticmethod
    def _company(company: Company) -> dict[str, Any]:
        return {
            "pk": company_pk(company.id),
            "sk": COMPANY,
            "doc": company.model_dump_json(),
            "version": company.version,
        }

    def _claim(self, company_id: str, domain: str) -> dict[str, Any]:
        return self._put(
            {"pk": f"DOMAIN#{domain}", "sk": "DOMAIN", "company_id": company_id}, "attribute_not_exists(pk)"
        )

    @staticmethod
    def _unchanged(current: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """The link's condition: still what was read (absent, or the same company and kind)."""
        if current is None:
            return "attribute_not_exists(pk)", {}
        return "company_id = :old AND linked_by = :how", {":old": current["company_id"], ":how": current["linked_by"]}

    def _put(self, item: dict[str, Any], condition: str = "", values: dict[str, Any] | None = None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": dynamo.item(item)}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = dynamo.values(values)
        return {"Put": put}

    def _delete(self, pk: str, sk: str, condition: str = "", values: dict[str, Any] | None = None) -> dict[str, Any]:
        delete: dict[str, Any] = {"TableName": self._table, "Key": dynamo.key(pk, sk)}
        if condition:
            delete["ConditionExpression"] = condition
        if values:
            delete["ExpressionAttributeValues"] = dynamo.values(values)
        return {"Delete": delete}

    def _transact(self, items: list[dict[str, Any]], domains: Sequence[str] = (), offset: int = 0) -> None:
        """`domains`: the domains claimed by the items from `offset` on, to name one already taken."""
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            codes = dynamo.cancellation_codes(exc)
            taken = [
                d for n, d in enumerate(domains, offset) if n < len(codes) and codes[n] == "ConditionalCheckFailed"
            ]
            if taken:
                raise Conflict(f"domains {', '.join(taken)} belong to another company") from exc
            if dynamo.lost_race(exc) or dynamo.condition_failed(exc):
                raise Conflict("changed meanwhile: read it again") from exc
            raise

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return dynamo.get_plain(self._db, self._table, pk, sk)


def _member(item: dict[str, Any]) -> CompanyMember:
    return CompanyMember.model_validate({k: item[k] for k in ("contact_id", "linked_by", "linked_at")})
