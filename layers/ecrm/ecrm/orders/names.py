"""Names of the orders capability: its table and settings.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike.
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the orders capability."""

    ORDERS_TABLE: Final = "ORDERS_TABLE_NAME"


class Resource(names.Resource):
    """Logical names of the orders capability's resources."""

    ORDERS_TABLE: Final = "Orders"  # one acceptance per order id and per (order, refund) id: digests, no bodies
