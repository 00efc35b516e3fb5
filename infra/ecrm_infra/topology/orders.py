"""The shop's gateway: orders and refunds posted over HTTPS by machine clients, each accepted once
and put on the bus as the shop's own events (decision 86)."""

from __future__ import annotations

from ecrm import access
from ecrm.orders.names import Env, Resource
from ecrm.orders.settings import OrdersApiSettings

from ecrm_infra.topology.spec import Access, Capability, Function, Table

ORDERS = Capability(
    name="Orders",
    tables=(Table(Resource.ORDERS_TABLE, no_personal_data="order and refund ids, digests of bodies, times"),),
    functions=(
        Function(
            name="orders_api",
            description="The shop's orders and refunds over HTTPS -> OrderPlaced.v1 / OrderRefunded.v1 on the bus",
            settings=OrdersApiSettings,
            env={Env.ORDERS_TABLE: Resource.ORDERS_TABLE, Env.EVENT_BUS: Resource.EVENT_BUS},
            # an acceptance made or read (UpdateItem returns it), then marked published; the
            # gateway owns no state of its own to keep an outbox consistent with (decision 86)
            grants={Resource.ORDERS_TABLE: Access.UPDATE, Resource.EVENT_BUS: Access.PUT_EVENTS},
            routes=access.ORDERS_API,
        ),
    ),
)
