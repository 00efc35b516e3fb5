"""`ecrm reindex-contacts`: the backfill of the contact search index (decision 68) for contacts
stored before it existed. A developer runs it once per table, against the endpoint and credentials
boto3 finds (AWS_ENDPOINT_URL for `ecrm local`, a profile for an account).

It reads every profile with a Scan: a maintenance path, never a request path. Each contact's index
items are put in one transaction with a check that its profile is still at the version read, so a
contact changed meanwhile (whose write indexed it already) is left as that write left it. Running it
again puts the same items again: idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecrm.contacts.adapters.dynamo_contacts import PROFILE, DynamoContacts, contact_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class Reindexed:
    indexed: int = 0
    changed_meanwhile: int = 0


def reindex_contacts(client: DynamoDBClient, table: str, phone_country: str | None) -> Reindexed:
    contacts = DynamoContacts(client, table, phone_country=phone_country)
    done = Reindexed()
    scan: dict[str, object] = {
        "TableName": table,
        "FilterExpression": "sk = :p",
        "ExpressionAttributeValues": {":p": {"S": PROFILE}},
    }
    while True:
        page = client.scan(**scan)  # type: ignore[arg-type]
        for item in page.get("Items", []):
            if contacts.reindex(contact_from_item(item)):
                done.indexed += 1
            else:
                done.changed_meanwhile += 1
        if "LastEvaluatedKey" not in page:
            return done
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
