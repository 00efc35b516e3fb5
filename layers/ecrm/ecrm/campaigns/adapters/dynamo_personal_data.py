"""What the Campaigns table holds about one contact, for the complete GDPR export: the items beside
their contact id (send records with their engagement, the member snapshot and segment index items
the segments read, their preferences) and the suppression entry of their address, found by its
hash while the address is known (an erased contact's entry keeps no address to find it by)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters import dynamo, holdings
from ecrm.campaigns.adapters.dynamo_segments import MEMBER, PREFS
from ecrm.campaigns.adapters.dynamo_sends import DynamoSuppressions
from ecrm.personal_data import Holding, Subject, holding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECTIONS = (
    ("MAIL#campaign#", "campaign_sends"),
    (MEMBER, "segment_profile"),
    ("SEG#", "segment_index"),
    (PREFS, "preferences"),
)


class CampaignsPersonalData:
    capability = "campaigns"

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def holdings(self, subject: Subject) -> list[Holding]:
        held = holdings.partition(self._db, self._table, f"CONTACT#{subject.contact_id}", SECTIONS, ("doc",))
        if subject.email:
            key = DynamoSuppressions.key_of(subject.email)
            found = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            if found:
                held.append(holding("suppression", dynamo.plain(found)))
        return held
