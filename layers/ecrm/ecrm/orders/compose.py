"""Composition root of the orders function: settings in, the gateway out."""

from __future__ import annotations

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.clock import SYSTEM_CLOCK
from ecrm.orders.adapters.dynamo_orders import DynamoAcceptances
from ecrm.orders.adapters.shop_bus import EventBridgeShopPublisher
from ecrm.orders.service import OrderGateway
from ecrm.orders.settings import OrdersApiSettings


def orders_api(settings: OrdersApiSettings) -> OrderGateway:
    session = boto3.session.Session()
    return OrderGateway(
        acceptances=DynamoAcceptances(session.client("dynamodb"), settings.orders_table),
        publisher=EventBridgeShopPublisher(on_first_use(session, "events"), settings.event_bus),
        clock=SYSTEM_CLOCK,
    )
