"""What the Loyalty table holds about one contact (a member is a contact: same id), for the complete
GDPR export: the member (balance, lots, tier) and every ledger entry of their partition, and the
record of each order their entries name (lines, refund state). A refund parked before its order
arrived names no member yet, so it is theirs only once the order is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo, holdings
from ecrm.loyalty.adapters.dynamo_loyalty import ORDER, member_pk, order_pk
from ecrm.personal_data import Holding, Subject, holding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (("MEMBER", "membership"), ("ENTRY#", "ledger"))


class LoyaltyPersonalData:
    capability = "loyalty"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        held = holdings.partition(self._db, self._table, member_pk(subject.contact_id), SECTIONS, ("entry",))
        orders = sorted({str(h.record["entry"]["order_id"]) for h in held if h.record.get("entry", {}).get("order_id")})
        keys = [dynamo.key(order_pk(order_id), ORDER) for order_id in orders]
        found = dynamo.batch_get_raw(self._db, self._table, keys, consistent=True)
        held += [holding("orders", dynamo.plain(item), documents=("record",)) for item in found]
        return held
