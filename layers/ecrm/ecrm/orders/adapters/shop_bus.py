"""The shop's events onto the bus, as a shop that calls EventBridge itself would put them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrm.adapters.eventbridge import EventBridgePublisher
from ecrm.errors import Unavailable
from ecrm.loyalty.shop import ShopEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class EventBridgeShopPublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._bus = bus_name
        self._publisher = EventBridgePublisher(client, bus_name)

    def publish(self, event: ShopEvent) -> None:
        entry = {
            "Source": event.source,
            "DetailType": event.detail_type,
            "Detail": event.model_dump_json(exclude_none=True),
            "EventBusName": self._bus,
        }
        if self._publisher.put([entry]):
            raise Unavailable(f"the bus did not take {event.detail_type}")
