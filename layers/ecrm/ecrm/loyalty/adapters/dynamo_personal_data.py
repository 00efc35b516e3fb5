"""What the Loyalty table holds about one contact (a member is a contact: same id), for the complete
GDPR export: the member (balance, lots, tier) and every ledger entry of their partition, and the
record of each order their entries name (lines, refund state). A refund parked before its order
arrived names no member yet, so it is theirs only once the order is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo
from ecrm.loyalty.adapters.dynamo_loyalty import ORDER, member_pk, order_pk
from ecrm.personal_data import Holding, Subject, holding, section_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (("MEMBER", "membership"), ("ENTRY#", "ledger"))


class LoyaltyPersonalData:
    capability = "loyalty"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        items = dynamo.query_all(
            self._db,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": member_pk(subject.contact_id)}},
        )
        held = [holding(section_of(item["sk"], SECTIONS), item, documents=("entry",)) for item in items]
        orders = sorted({str(h.record["entry"]["order_id"]) for h in held if h.record.get("entry", {}).get("order_id")})
        keys = [dynamo.key(order_pk(order_id), ORDER) for order_id in orders]
        found = dynamo.batch_get_raw(self._db, self._table, keys, consistent=True)
        held += [holding("orders", dynamo.plain(item), documents=("record",)) for item in found]
        return held
