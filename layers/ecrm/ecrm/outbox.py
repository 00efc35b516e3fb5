"""The transactional outbox: an event is written in the same DynamoDB transaction as the change it
announces, as an item of the Outbox table; the table's stream carries it to the bus (the
`event_relay` function). No writer publishes after its own write, so a crash between the two
cannot lose an event (decision 52).

Writers add `Outbox.puts(events)` to the TransactWriteItems of their change; the relay turns the
stream's INSERT records back into PutEvents entries with `entry()`. Items expire after a week
(TTL): long after the stream (24 h) and the relay's retries are done with them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecrm.events import DomainEvent

KIND = "event"
RETENTION = timedelta(days=7)
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class Outbox:
    """The Outbox table, as writers see it: Put entries for their transactions."""

    table: str

    def puts(self, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        return [self.put(event) for event in events]

    def put(self, event: DomainEvent) -> dict[str, Any]:
        event_id = uuid.uuid4().hex
        return {
            "Put": {
                "TableName": self.table,
                "Item": {
                    "pk": {"S": f"EVENT#{event_id}"},
                    "sk": {"S": KIND},
                    "kind": {"S": KIND},
                    "source": {"S": event.source},
                    "detail_type": {"S": event.detail_type},
                    "detail": {"S": event.model_dump_json()},
                    TTL_ATTRIBUTE: {"N": str(_epoch(event.occurred_at + RETENTION))},
                },
                # A fresh id never exists: the condition only guards against a uuid collision
                # silently replacing an unpublished event.
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }


def puts(outbox: Outbox | None, events: Sequence[DomainEvent], owner: str) -> list[dict[str, Any]]:
    """The Put entries for `events`, for a writer that may have been built without the outbox
    (readers are): none for no events, a ValueError naming `owner` if there are events to commit
    and nowhere to commit them."""
    if not events:
        return []
    if outbox is None:
        raise ValueError(f"{owner} was built without the outbox: it cannot announce its writes")
    return outbox.puts(events)


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def entry(new_image: Mapping[str, Any], bus: str) -> dict[str, Any] | None:
    """The PutEvents entry an Outbox item (a stream record's NewImage, DynamoDB JSON) stands for,
    or None for an item that is not an event."""
    if new_image.get("kind", {}).get("S") != KIND:
        return None
    detail = new_image["detail"]["S"]
    json.loads(detail)  # a corrupt item fails here, in the relay, not on the bus
    return {
        "Source": new_image["source"]["S"],
        "DetailType": new_image["detail_type"]["S"],
        "Detail": detail,
        "EventBusName": bus,
    }
