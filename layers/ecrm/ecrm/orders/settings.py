"""Settings of the orders function, read once from the environment by the composition root; the
topology (infra/ecrm_infra/topology/orders.py) names the model."""

from __future__ import annotations

from pydantic import Field

from ecrm.orders.names import Env
from ecrm.settings import FromEnv


class OrdersApiSettings(FromEnv):
    """The shop's orders and refunds: acceptances in the Orders table, events onto the bus."""

    orders_table: str = Field(alias=Env.ORDERS_TABLE)
    event_bus: str = Field(alias=Env.EVENT_BUS)
